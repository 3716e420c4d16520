"""Initializers for accumulators and leaf parameters (LibSPN-Keras compatible)."""
import keras
import numpy as np
import tensorflow as tf

register = keras.saving.register_keras_serializable(package="spnlab")


@register
class Dirichlet(keras.initializers.Initializer):
    """Weights drawn from Dirichlet(alpha) along `axis`: every sum starts normalised.

    Args:
        axis: the axis that sums to 1 (the children, -2 for accumulators).
        alpha: concentration, a number or a vector as long as `axis`.
        seed: optional int seed.
    """

    def __init__(self, axis=-2, alpha=0.1, seed=None):
        self.axis = int(axis)
        if np.any(np.asarray(alpha, dtype=float) <= 0):
            raise ValueError(f"Expected `alpha` > 0. Received: alpha={alpha!r}")
        self.alpha = alpha if np.isscalar(alpha) else list(np.asarray(alpha, float))
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = list(shape)
        n = shape[self.axis]
        alpha = np.broadcast_to(np.asarray(self.alpha, dtype=float), [n])
        rng = np.random.default_rng(self.seed)
        other = shape[:self.axis % len(shape)] + shape[self.axis % len(shape) + 1:]
        draws = rng.dirichlet(alpha, size=int(np.prod(other)) if other else 1)   # [prod, n]
        draws = np.moveaxis(draws.reshape(other + [n]), -1, self.axis % len(shape))
        return tf.constant(draws, dtype=dtype or "float32")

    def get_config(self):
        return {"axis": self.axis, "alpha": self.alpha, "seed": self.seed}


@register
class EpsilonInverseFanIn(keras.initializers.Initializer):
    """Every weight `epsilon / n` with n the size of `axis` (for unweighted hard EM)."""

    def __init__(self, axis=-2, epsilon=1e-4):
        self.axis = int(axis)
        self.epsilon = float(epsilon)

    def __call__(self, shape, dtype=None):
        return tf.fill(shape, tf.cast(self.epsilon / shape[self.axis], dtype or "float32"))

    def get_config(self):
        return {"axis": self.axis, "epsilon": self.epsilon}


@register
class Equidistant(keras.initializers.Initializer):
    """Values evenly spaced in [minval, maxval] along `axis` (components of a leaf by default).

    LibSPN-Keras spaced along the last axis, which for its leaf parameters `[1, S, D, K, V]` is
    the variable axis, so every component got `minval`; here `axis=None` (the default) means the
    component axis: -2 for leaf parameters `[1, S, D, K, V]`, -1 for any other rank (`[S, D, K]`).
    """

    def __init__(self, minval=0.0, maxval=1.0, axis=None):
        self.minval, self.maxval = float(minval), float(maxval)
        self.axis = None if axis is None else int(axis)

    def __call__(self, shape, dtype=None):
        shape = list(shape)
        axis = self.axis if self.axis is not None else (-2 if len(shape) == 5 else -1)
        n = shape[axis]
        line = np.linspace(self.minval, self.maxval, n)
        view = [1] * len(shape)
        view[axis] = n
        return tf.constant(np.broadcast_to(line.reshape(view), shape), dtype=dtype or "float32")

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "axis": self.axis}


class _QuantileSplit(keras.initializers.Initializer):
    """Poon & Domingos (2011) leaf initialisation: sort each variable's data, cut it into K
    quantile groups, one per component, and use a statistic of each group.

    Args:
        data: array-like `[N, ...]` (per-variable values along the first axis) or a batched
            `tf.data.Dataset` of such arrays; call `adapt(data)` later if None.

    Returned tensors have shape `[S, D, K]` for leaf parameters of that shape, where the data
    has `[N, S]` (or `[N, S, D]`) values. For the leaves' own parameter shape `[1, S, D, K, V]`
    the components are axis -2 and the data is `[N, S]`, `[N, S, D]` or `[N, S, D, V]`.
    """

    def __init__(self, data=None):
        self._sorted = None
        if data is not None:
            self.adapt(data)

    def adapt(self, data):
        if isinstance(data, tf.data.Dataset):
            data = np.concatenate([np.asarray(b) for b in data], axis=0)
        data = np.asarray(data, dtype=float)
        if data.ndim < 2 or data.shape[0] < 1:
            raise ValueError(f"Expected `data` of shape [num_samples, num_vars, ...]. "
                             f"Received: data.shape={data.shape}")
        self._sorted = np.sort(data, axis=0)

    def _statistic(self, group):
        raise NotImplementedError

    def __call__(self, shape, dtype=None):
        if self._sorted is None:
            raise RuntimeError(f"{type(self).__name__} needs data: pass `data=` or call adapt().")
        shape = list(shape)
        leaf_shape = len(shape) == 5                          # [1, S, D, K, V] leaf parameters
        k = shape[-2] if leaf_shape else shape[-1]
        groups = np.array_split(self._sorted, k, axis=0)
        stats = np.stack([self._statistic(g) for g in groups], axis=-1)   # [S, (D,) K]
        if leaf_shape:
            if stats.ndim == 4:                                           # [S, D, V, K]
                stats = np.moveaxis(stats, -1, -2)[None]                  # [1, S, D, K, V]
            else:                                                         # [S, (D,) K]
                stats = (stats[:, None] if stats.ndim == 2 else stats)[None, ..., None]
        while stats.ndim < len(shape):
            stats = stats[:, None] if stats.ndim == 2 else stats[None]
        return tf.constant(np.broadcast_to(stats, shape), dtype=dtype or "float32")

    def get_config(self):
        return {}


@register
class PoonDomingosMeanOfQuantileSplit(_QuantileSplit):
    """Component locations: the mean of each quantile group (see `_QuantileSplit`)."""

    def _statistic(self, group):
        return group.mean(axis=0)


@register
class PoonDomingosStddevOfQuantileSplit(_QuantileSplit):
    """Component scales: the standard deviation of each quantile group (see `_QuantileSplit`)."""

    def _statistic(self, group):
        return np.maximum(group.std(axis=0), 1e-3)


@register
class ReshapedConstant(keras.initializers.Constant):
    """`keras.initializers.Constant` as LibSPN-Keras programs use it (tf.keras semantics): an
    array with exactly as many entries as the variable is reshaped to the variable's shape (4
    root weights for a `[1, 1, 4, 1]` accumulator), where Keras 3's `Constant` would broadcast
    it (to `[1, 1, 4, 4]`) and the build would fail. A scalar, or an array that broadcasts to
    the shape, fills the variable as before; anything else is a clear error.
    """

    def __call__(self, shape, dtype=None):
        value = np.asarray(self.value)
        shape = tuple(int(n) for n in shape)
        if value.ndim and value.shape != shape and value.size == int(np.prod(shape)):
            value = value.reshape(shape)
        try:
            value = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(f"Expected a constant initializer with {int(np.prod(shape))} "
                             f"entries (reshaped) or one that broadcasts to the variable's "
                             f"shape {list(shape)}. Received: a constant of shape "
                             f"{list(value.shape)}") from None
        return tf.constant(value, dtype=dtype or "float32")


def get(identifier):
    """`keras.initializers.get`, with a `Constant` turned into `ReshapedConstant` (the layers'
    initializer arguments go through this)."""
    initializer = keras.initializers.get(identifier)
    if type(initializer) is keras.initializers.Constant:
        return ReshapedConstant(initializer.value)
    return initializer
