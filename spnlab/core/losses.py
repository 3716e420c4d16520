"""Losses of SPN outputs (root log-values or weighted child logits `[B, N]`)."""
import keras
import tensorflow as tf

from spnlab.core.ops.logspace import logsumexp

register = keras.saving.register_keras_serializable(package="spnlab")


@register
class NegativeLogLikelihood(keras.losses.Loss):
    """`-log p(x)`: the negative log-sum-exp of the outputs (y_true is ignored)."""

    def __init__(self, name="negative_log_likelihood", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return -logsumexp(y_pred, axis=-1)


@register
class NegativeLogJoint(keras.losses.Loss):
    """`-log p(x, y)`: minus the output of the label's root (needs weighted child logits)."""

    def __init__(self, name="negative_log_joint", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        labels = tf.reshape(tf.cast(y_true, tf.int32), [-1])
        return -tf.gather(y_pred, labels, axis=1, batch_dims=1)
