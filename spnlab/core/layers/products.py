"""Product layers: outer products of neighbouring scopes, node-wise products, decomposition merge."""
import keras
import tensorflow as tf

from spnlab.core.layers.shapes import check_region_shape

register = keras.saving.register_keras_serializable(package="spnlab")


def _check_factors(num_factors):
    if isinstance(num_factors, bool) or not isinstance(num_factors, int) or num_factors < 1:
        raise ValueError(f"Expected `num_factors` to be a positive int. "
                         f"Received: num_factors={num_factors!r}")
    return num_factors


def _check_divisible(layer, scopes, num_factors):
    if scopes % num_factors:
        raise ValueError(f"{type(layer).__name__}(num_factors={num_factors}) needs a number of "
                         f"scopes divisible by {num_factors}. Received: scopes={scopes}")


class _ScopeProduct(keras.layers.Layer):
    """What both region products share: `num_factors` neighbouring scopes form one output
    scope, so the scope count must divide by it."""

    def __init__(self, num_factors, **kwargs):
        super().__init__(**kwargs)
        self.num_factors = _check_factors(num_factors)

    def build(self, input_shape):
        check_region_shape(self, input_shape)
        _check_divisible(self, input_shape[1], self.num_factors)

    def get_config(self):
        return {**super().get_config(), "num_factors": self.num_factors}


@register
class DenseProduct(_ScopeProduct):
    """Every combination of one node from each of `num_factors` neighbouring scopes.

    `[B, S, D, N]` -> `[B, S / F, D, N**F]`; output scope j joins input scopes jF .. jF+F-1 and
    node index `(n_0 * N + n_1) * N + ...` (the lowest scope most significant):
    `y[b, j, d, n_0 N + n_1] = x[b, 2j, d, n_0] + x[b, 2j+1, d, n_1]` for F = 2.
    """

    def call(self, x):
        _, scopes, decomps, nodes = x.shape
        f = self.num_factors
        x = tf.reshape(x, [-1, scopes // f, f, decomps, nodes])             # [B, S/F, F, D, N]
        out = x[:, :, 0]                                                     # [B, S/F, D, N]
        for i in range(1, f):
            out = out[..., :, None] + x[:, :, i][..., None, :]               # [B, S/F, D, M, N]
            out = tf.reshape(out, [-1, scopes // f, decomps, nodes ** (i + 1)])
        return out

    def compute_output_shape(self, input_shape):
        b, s, d, n = input_shape
        return (b, s // self.num_factors, d, n ** self.num_factors)


@register
class ReduceProduct(_ScopeProduct):
    """Node-wise product of `num_factors` neighbouring scopes: `[B, S, D, N]` -> `[B, S/F, D, N]`."""

    def call(self, x):
        _, scopes, decomps, nodes = x.shape
        x = tf.reshape(x, [-1, scopes // self.num_factors, self.num_factors, decomps, nodes])
        return tf.reduce_sum(x, axis=2)

    def compute_output_shape(self, input_shape):
        b, s, d, n = input_shape
        return (b, s // self.num_factors, d, n)


@register
class Undecompose(keras.layers.Layer):
    """Merge neighbouring decompositions into the node axis.

    `[B, S, D, N]` -> `[B, S, num_decomps, (D / num_decomps) * N]`, node index `d_local * N + n`.
    """

    def __init__(self, num_decomps=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_decomps, bool) or not isinstance(num_decomps, int) or num_decomps < 1:
            raise ValueError(f"Expected `num_decomps` to be a positive int. "
                             f"Received: num_decomps={num_decomps!r}")
        self.num_decomps = num_decomps

    def build(self, input_shape):
        check_region_shape(self, input_shape)
        if input_shape[2] % self.num_decomps:
            raise ValueError(f"Undecompose(num_decomps={self.num_decomps}) needs decomps "
                             f"divisible by it. Received: decomps={input_shape[2]}")

    def call(self, x):
        _, scopes, decomps, nodes = x.shape
        return tf.reshape(x, [-1, scopes, self.num_decomps, (decomps // self.num_decomps) * nodes])

    def compute_output_shape(self, input_shape):
        b, s, d, n = input_shape
        return (b, s, self.num_decomps, (d // self.num_decomps) * n)

    def get_config(self):
        return {**super().get_config(), "num_decomps": self.num_decomps}
