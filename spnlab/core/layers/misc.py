"""LogDropout and NormalizeStandardScore."""
import keras
import numpy as np
import tensorflow as tf

from spnlab._args import check_number

register = keras.saving.register_keras_serializable(package="spnlab")


@register
class LogDropout(keras.layers.Layer):
    """Dropout in log space: in training, each value is set to -inf (log 0) with probability `rate`.

    No rescaling (a sum's weights already renormalise). Do not put it right before a product:
    a whole dropped scope makes the product -inf. `axis_at_least_one` keeps, along that axis,
    the element with the largest noise so that at least one survives.
    """

    def __init__(self, rate, noise_shape=None, seed=None, axis_at_least_one=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Expected `rate` in [0, 1]. Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else list(noise_shape)
        self.seed = seed
        self.axis_at_least_one = axis_at_least_one
        self._seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        shape = tf.shape(x) if self.noise_shape is None else \
            tf.concat([tf.shape(x)[:1], self.noise_shape], axis=0)
        noise = keras.random.uniform(shape, seed=self._seed_generator)
        keep = noise > self.rate
        if self.axis_at_least_one is not None:
            keep = tf.logical_or(keep, tf.equal(
                noise, tf.reduce_max(noise, axis=self.axis_at_least_one, keepdims=True)))
        return tf.where(keep, x, tf.constant(-np.inf, x.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed, "axis_at_least_one": self.axis_at_least_one}


@register
class NormalizeStandardScore(keras.layers.Layer):
    """`(x - mean) / (stddev + normalization_epsilon)`.

    Args:
        normalization_epsilon: added to the standard deviation.
        axes: "sample-wise" (statistics of each sample over its own values), "variable-wise"
            (per variable over the data, from `adapt`) or "global" (one mean and stddev over
            all data, from `adapt`).
    """

    AXES = ("sample-wise", "variable-wise", "global")

    def __init__(self, normalization_epsilon=1e-8, axes="sample-wise", **kwargs):
        super().__init__(**kwargs)
        axes = getattr(axes, "value", axes)
        if axes not in self.AXES:
            raise ValueError(f"Expected `axes` in {self.AXES}. Received: axes={axes!r}")
        self.normalization_epsilon = check_number("normalization_epsilon",
                                                  normalization_epsilon, low=0.0)
        self.axes = axes

    def build(self, input_shape):
        if self.axes == "sample-wise":
            return
        shape = list(input_shape[1:]) if self.axes == "variable-wise" else []
        self.mean = self.add_weight(name="mean", shape=shape, initializer="zeros", trainable=False)
        self.stddev = self.add_weight(name="stddev", shape=shape, initializer="ones",
                                      trainable=False)
        self._adapted = False

    def adapt(self, data):
        """Compute the statistics from an array `[N, ...]` or a batched `tf.data.Dataset`."""
        if self.axes == "sample-wise":
            raise ValueError("adapt() is for axes='variable-wise' or 'global'. "
                             f"Received: axes={self.axes!r}")
        if isinstance(data, tf.data.Dataset):
            data = np.concatenate([np.asarray(b[0] if isinstance(b, tuple) else b) for b in data])
        data = np.asarray(data, dtype=np.float64)
        if not self.built:
            self.build((None,) + data.shape[1:])
        axis = 0 if self.axes == "variable-wise" else None
        self.mean.assign(data.mean(axis=axis).astype(np.float32))
        self.stddev.assign(data.std(axis=axis).astype(np.float32))
        self._adapted = True

    def statistics(self, x):
        """`(mean, stddev)` broadcastable against `x`."""
        if self.axes == "sample-wise":
            axes = list(range(1, len(x.shape)))
            mean = tf.reduce_mean(x, axis=axes, keepdims=True)
            return mean, tf.sqrt(tf.reduce_mean((x - mean) ** 2, axis=axes, keepdims=True))
        return tf.convert_to_tensor(self.mean), tf.convert_to_tensor(self.stddev)

    def call(self, x, return_stats=False):
        x = tf.cast(x, self.compute_dtype)
        mean, stddev = self.statistics(x)
        out = (x - mean) / (stddev + self.normalization_epsilon)
        return (out, mean, stddev) if return_stats else out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def denormalize(self, y, mean, stddev):
        return y * (stddev + self.normalization_epsilon) + mean

    def get_config(self):
        return {**super().get_config(), "normalization_epsilon": self.normalization_epsilon,
                "axes": self.axes}
