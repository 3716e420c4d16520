"""Metrics: mean log-likelihood and mean log joint."""
import keras
import tensorflow as tf

from spnlab.core.ops.logspace import logsumexp

register = keras.saving.register_keras_serializable(package="spnlab")


@register
class LogLikelihood(keras.metrics.Mean):
    """Mean of `log p(x)` = log-sum-exp of the outputs (y_true ignored)."""

    def __init__(self, name="llh", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(logsumexp(y_pred, axis=-1), sample_weight=sample_weight)


@register
class LogJoint(keras.metrics.Mean):
    """Mean of `log p(x, y)`, the output of the label's root."""

    def __init__(self, name="log_joint", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.reshape(tf.cast(y_true, tf.int32), [-1])
        return super().update_state(tf.gather(y_pred, labels, axis=1, batch_dims=1),
                                    sample_weight=sample_weight)
