"""Keras constraints for accumulators (LibSPN-Keras compatible).

Keras applies a variable's constraint after every optimiser update, so these keep weights valid
between steps. The sum layers normalise in the forward pass as well, so a model stays a valid
distribution whatever constraint a user picks.
"""
import keras
import tensorflow as tf

from spnlab._args import check_number
from spnlab.core.ops.xla import xla_when_large

register = keras.saving.register_keras_serializable(package="spnlab")


def _check_number(name, value):
    return check_number(name, value)


@register
class GreaterEqualEpsilon(keras.constraints.Constraint):
    """`w <- max(w, epsilon)`."""

    def __init__(self, epsilon=1e-10):
        self.epsilon = _check_number("epsilon", epsilon)

    def __call__(self, w):
        return tf.maximum(w, tf.cast(self.epsilon, w.dtype))

    def get_config(self):
        return {"epsilon": self.epsilon}


@xla_when_large
def _floor_and_normalize(w, epsilon, axis):
    n = tf.cast(tf.shape(w)[axis], w.dtype)
    c = tf.maximum(w, tf.cast(epsilon, w.dtype) / n)
    return c / tf.reduce_sum(c, axis=axis, keepdims=True)


@register
class GreaterEqualEpsilonNormalized(keras.constraints.Constraint):
    """`w <- c / sum(c, axis)` with `c = max(w, epsilon / n)`, n the size of `axis`.

    The default constraint of linear accumulators: keeps every weight positive (so hard EM can
    never lock a child out for good) and every sum's weights normalised.
    """

    def __init__(self, epsilon=1e-10, axis=-2):
        self.epsilon = _check_number("epsilon", epsilon)
        self.axis = int(axis)

    def __call__(self, w):
        return _floor_and_normalize(tf.convert_to_tensor(w), self.epsilon, self.axis)

    def get_config(self):
        return {"epsilon": self.epsilon, "axis": self.axis}


@register
class LogNormalized(keras.constraints.Constraint):
    """`w <- log_softmax(w, axis)`: log-space accumulators normalised per sum."""

    def __init__(self, axis=-2):
        self.axis = int(axis)

    def __call__(self, w):
        return tf.nn.log_softmax(w, axis=self.axis)

    def get_config(self):
        return {"axis": self.axis}


@register
class Clip(keras.constraints.Constraint):
    """`w <- clip(w, min, max)`; `max=None` leaves values unbounded above."""

    def __init__(self, min, max=None):  # noqa: A002 - LibSPN-Keras argument names
        self.min = _check_number("min", min)
        self.max = None if max is None else _check_number("max", max)
        if self.max is not None and self.max < self.min:
            raise ValueError(f"Expected `max` >= `min`. Received: min={min}, max={max}")

    def __call__(self, w):
        w = tf.maximum(w, tf.cast(self.min, w.dtype))
        return w if self.max is None else tf.minimum(w, tf.cast(self.max, w.dtype))

    def get_config(self):
        return {"min": self.min, "max": self.max}
