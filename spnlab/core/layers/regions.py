"""From flat data to region tensors, and scope permutations with padding."""
import warnings

import keras
import numpy as np
import tensorflow as tf

from spnlab.core.layers.shapes import check_region_shape

register = keras.saving.register_keras_serializable(package="spnlab")


@register
class FlatToRegions(keras.layers.Layer):
    """`[B, V]` -> `[B, V, num_decomps, 1]` (or `[B, V, dim]` -> `[B, V, num_decomps, dim]`).

    Each variable becomes a scope, copied into every decomposition. Pass `dtype="int32"` for
    indicator or categorical data, as in LibSPN-Keras.
    """

    def __init__(self, num_decomps, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_decomps, bool) or not isinstance(num_decomps, int) or num_decomps < 1:
            raise ValueError(f"Expected `num_decomps` to be a positive int. "
                             f"Received: num_decomps={num_decomps!r}")
        self.num_decomps = num_decomps

    def build(self, input_shape):
        if len(input_shape) not in (2, 3) or input_shape[1] is None:
            raise ValueError("FlatToRegions expects [batch, num_vars] or [batch, num_vars, dim] "
                             f"with known num_vars. Received: input_shape={tuple(input_shape)}")
        self.input_spec = keras.layers.InputSpec(ndim=len(input_shape),
                                                 axes={1: input_shape[1]})

    def call(self, x):
        if len(x.shape) == 2:
            x = x[..., None]                                              # [B, V, 1]
        return tf.repeat(x[:, :, None, :], self.num_decomps, axis=2)      # [B, V, D, dim]

    def compute_output_shape(self, input_shape):
        dim = input_shape[2] if len(input_shape) == 3 else 1
        return (input_shape[0], input_shape[1], self.num_decomps, dim)

    def get_config(self):
        return {**super().get_config(), "num_decomps": self.num_decomps}


def _integer_array(values, arg):
    """An int32 array of integer-valued `values` (0.5 or 1.7 is an error, not truncated)."""
    array = np.asarray(values)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer)
                                     or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"Expected `{arg}` to hold integers. Received dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            raise ValueError(f"Expected integer `{arg}`. Received: "
                             f"{float(array[bad].ravel()[0])!r}")
    return array.astype(np.int32)


@register
class PermuteAndPadScopes(keras.layers.Layer):
    """Reorder scopes per decomposition; `-1` inserts a padding scope (log 1 = 0, marginalised).

    `[B, S, D, N]` -> `[B, S', D, N]` with
    `y[b, s', d, n] = x[b, permutations[d, s'], d, n]` (0 where `permutations[d, s'] = -1`).

    Args:
        permutations: int array `[num_decomps, S']` (a single row is used for every decomp).

    A scope repeated within a row (LibSPN-Keras accepts it) makes the products above it use
    a variable twice: the SPN is no longer decomposable and its probabilities no longer sum
    to 1. It is allowed, with a warning at build; `spnlab.graph.validate` of the expanded
    model names the product.
    """

    def __init__(self, permutations=None, **kwargs):
        super().__init__(**kwargs)
        self._initial_permutations = (None if permutations is None
                                      else _integer_array(permutations, "permutations"))
        if self._initial_permutations is not None and self._initial_permutations.ndim != 2:
            raise ValueError("Expected `permutations` of shape [num_decomps, num_scopes_out]. "
                             f"Received shape {self._initial_permutations.shape}")

    def _make_permutations(self, scopes, decomps):
        return self._initial_permutations

    def build(self, input_shape):
        check_region_shape(self, input_shape, known_axes=(1, 2))
        _, scopes, decomps, _ = input_shape
        perms = self._make_permutations(scopes, decomps)
        if perms is None:
            raise ValueError(f"{type(self).__name__} needs `permutations`. Received: None")
        if perms.shape[0] == 1 and decomps != 1:
            perms = np.repeat(perms, decomps, axis=0)
        if perms.shape[0] != decomps:
            raise ValueError(f"Expected `permutations` with one row per decomposition ({decomps}). "
                             f"Received shape {perms.shape}")
        if perms.min() < -1 or perms.max() >= scopes:
            raise ValueError(f"Expected `permutations` entries in [-1, {scopes}). "
                             f"Received min={perms.min()}, max={perms.max()}")
        for d, row in enumerate(perms):
            used = row[row >= 0]
            if len(np.unique(used)) < len(used):
                values, counts = np.unique(used, return_counts=True)
                warnings.warn(
                    f"{self.name}: `permutations` row {d} repeats scope(s) "
                    f"{values[counts > 1].tolist()}: the products above use those variables "
                    "twice, so the SPN is not decomposable and its probabilities do not sum "
                    "to 1", UserWarning, stacklevel=2)
                break
        self.permutations = self.add_weight(
            name="permutations", shape=perms.shape, dtype="int32", trainable=False,
            initializer=lambda *_, **__: tf.constant(perms, tf.int32))

    def call(self, x):
        x = tf.transpose(x, [2, 0, 1, 3])                                  # [D, B, S, N]
        pad = tf.zeros_like(x[:, :, :1])                                  # [D, B, 1, N]
        x = tf.concat([pad, x], axis=2)                                   # [D, B, S+1, N]
        idx = tf.convert_to_tensor(self.permutations) + 1                 # [D, S']
        out = tf.gather(x, idx, axis=2, batch_dims=1)                      # [D, B, S', N]
        return tf.transpose(out, [1, 2, 0, 3])                             # [B, S', D, N]

    def compute_output_shape(self, input_shape):
        b, _, d, n = input_shape
        return (b, int(self.permutations.shape[1]), d, n)

    def get_config(self):
        perms = None if self._initial_permutations is None else self._initial_permutations.tolist()
        return {**super().get_config(), "permutations": perms}


@register
class PermuteAndPadScopesRandom(PermuteAndPadScopes):
    """A random scope permutation per decomposition, padded to `prod(factors)` scopes.

    With `factors` the `num_factors` of the product layers above (SequentialSumProductNetwork
    fills them in when None), the scopes are padded to `prod(factors)`; padding sits at
    positions `i * floor(prod / num_pad)` as in LibSPN-Keras. The permutations are a
    non-trainable weight, so a saved model reloads with the same structure (LibSPN-Keras'
    `get_config` of this layer was broken).

    Args:
        factors: list of product fan-ins from the bottom up, or None.
        seed: optional int seed (LibSPN-Keras used the global NumPy generator).
    """

    def __init__(self, factors=None, seed=None, **kwargs):
        kwargs.pop("permutations", None)
        super().__init__(permutations=None, **kwargs)
        self.factors = None if factors is None else [int(f) for f in factors]
        self.seed = seed

    def set_factors(self, factors):
        self.factors = [int(f) for f in factors]

    def _make_permutations(self, scopes, decomps):
        if not self.factors:
            raise ValueError("PermuteAndPadScopesRandom needs `factors` (the num_factors of the "
                             f"product layers above). Received: factors={self.factors}")
        cumprod = np.cumprod(self.factors)
        if cumprod[-1] < scopes:
            raise ValueError(f"Expected prod(factors) >= number of scopes ({scopes}). "
                             f"Received: factors={self.factors}")
        if len(cumprod) > 1 and cumprod[-2] >= scopes:
            raise ValueError(f"Too many factors for {scopes} scopes. Received: factors={self.factors}")
        total = int(cumprod[-1])
        rng = np.random.default_rng(self.seed)
        num_pad = total - scopes
        rows = []
        for _ in range(decomps):
            row = list(rng.permutation(scopes))
            if num_pad:
                rate = total // num_pad
                for i in range(num_pad):
                    row.insert(i * rate, -1)
            rows.append(row)
        return np.asarray(rows, dtype=np.int32)

    def get_config(self):
        config = super().get_config()
        config.pop("permutations")
        return {**config, "factors": self.factors, "seed": self.seed}
