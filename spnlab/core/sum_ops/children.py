"""The children of a dense sum layer, as the sum ops see them.

The sum ops work in a scopes-first layout, `[S, D, B, I]`, in which every (scope, decomp) pair is
one batched matrix product with no transposes of the large tensors. Two kinds of children:

- `DenseChildren`: a region tensor `[B, S, D, I]` (whatever layer came before the sum), or
  with `scopes_first=True` already `[S, D, B, I]` (callers such as the node-graph evaluator
  that keep their values node-major then skip two transposes per pass).
- `ProductChildren`: the *input* of a `DenseProduct(F)` that feeds the sum, `[B, S*F, D, N]`.
  The product layer's output `[B, S, D, N**F]` is never materialised in log space: the
  exponentiated children of the sum are the outer product of the F factors' exponentials,
  `exp(x_(n0..) - m) = prod_f exp(x_f,nf - m_f)`, so only `F * N` exps are taken per row
  instead of `N**F`, and the signals flow straight back to the factors. This is the fusion
  Einsum networks use (Peharz et al. 2020); here it is an internal detail of the model's
  forward pass, the layers stay as in LibSPN-Keras.

Both expose the same interface, so that every sum op is written once:
    e, shift: `exp(x - shift)` `[S, D, B, I]` and `shift` `[S, D, B, 1]`
    log_values(): the child log-values `[S, D, B, I]` (materialised on demand)
    rows(idx): log-values of chosen rows, idx `[n, 3]` of (s, d, b) -> `[n, I]`
    signal_of(g): the child signal `dx = e * g` (g `[S, D, B, I]`) in the layer input's layout
    row_winners(generator, sample_prob): one child per row (s, d, b) chosen from the child
        log-values alone (unweighted hard EM), `[S, D, B]` int64
    winner_signal(idx, k, values): the signal of `values[r]` sent to child `k[r]` of row
        `idx[r]`, mapped to the layer input's layout without building a dense `[S, D, B, I]`.
"""
import tensorflow as tf

from spnlab.core.ops.logspace import safe_max
from spnlab.core.ops.xla import xla_when_large
from spnlab.core.sum_ops.winners import draw_coins, select_winners


class DenseChildren:
    """Children given as a region tensor `x` `[B, S, D, I]` (`scopes_first`: `[S, D, B, I]`;
    the child signals then come back in that layout too)."""

    def __init__(self, x, scopes_first=False):
        self.input = x
        self.scopes_first = scopes_first
        self._x = x if scopes_first else tf.transpose(x, [1, 2, 0, 3])     # [S, D, B, I]
        self.shift = safe_max(self._x, axis=-1)                            # [S, D, B, 1]
        self.e = tf.exp(self._x - self.shift)                              # [S, D, B, I]

    def log_values(self):
        return self._x

    def rows(self, idx):
        return tf.gather_nd(self._x, idx)                                  # [n, I]

    def row_winners(self, generator, sample_prob):
        k = select_winners(tf.reshape(self._x, [-1, self._x.shape[-1]]), generator, sample_prob)
        return tf.reshape(k, tf.shape(self._x)[:3])

    def signal_of(self, g):
        if self.scopes_first:
            return self.e * g                                              # [S, D, B, I]
        return tf.transpose(self.e * g, [2, 0, 1, 3])                      # [B, S, D, I]

    def winner_signal(self, idx, k, values):
        s, d, b = idx[:, 0], idx[:, 1], idx[:, 2]
        target = tf.stack([s, d, b, k] if self.scopes_first else [b, s, d, k], axis=1)
        return tf.scatter_nd(target, values, tf.shape(self.input, tf.int64))


class ProductChildren:
    """Children that are the outer products of `num_factors` neighbouring scopes of `x`.

    Args:
        x: the input of the `DenseProduct`, `[B, S*F, D, N]`.
        num_factors: F. Child index `(n_0 * N + n_1) * N + ...` (as `DenseProduct`).
    """

    def __init__(self, x, num_factors):
        self.input = x
        self.num_factors = f = num_factors
        _, scopes_in, decomps, nodes = x.shape
        self.nodes = nodes
        self.scopes = scopes_in // f
        x = tf.reshape(x, [-1, self.scopes, f, decomps, nodes])            # [B, S, F, D, N]
        self._factors = tf.transpose(x, [2, 1, 3, 0, 4])                   # [F, S, D, B, N]
        shifts = safe_max(self._factors, axis=-1)                          # [F, S, D, B, 1]
        exps = tf.exp(self._factors - shifts)
        self.shift = tf.reduce_sum(shifts, axis=0)                         # [S, D, B, 1]
        self.e_factors = exps                                              # [F, S, D, B, N]
        self.e = _outer([exps[i] for i in range(f)], tf.multiply)          # [S, D, B, N**F]

    def log_values(self):
        return _outer([self._factors[i] for i in range(self.num_factors)], tf.add)

    def rows(self, idx):
        return _outer([tf.gather_nd(self._factors[i], idx) for i in range(self.num_factors)],
                      tf.add)                                              # [n, N**F]

    def row_winners(self, generator, sample_prob):
        """The winner of `x_(n0..) = sum_f x_f,nf` is the tuple of the factors' winners: the
        maxima of a sum of independent terms are the products of the factors' maxima (so
        uniform tie-breaking per factor is uniform over the tied tuples), and the softmax of
        such a sum factorises. A row that is -inf everywhere has no preferred child."""
        f, n = self.num_factors, self.nodes
        rows = tf.reshape(self._factors, [f, -1, n])                       # [F, S*D*B, N]
        coins = (draw_coins(generator, tf.shape(rows)[1], sample_prob, rows.dtype)
                 if sample_prob and sample_prob < 1.0 else None)
        k = 0
        for i in range(f):
            k = k * n + select_winners(rows[i], generator, sample_prob, coins)
        return tf.reshape(k, tf.shape(self._factors)[1:4])

    def signal_of(self, g):
        """`dx = e * g` summed onto the factors: factor f's node n gets the sum over the
        children that contain it. With `e = prod_f e_f` this is `e_f,n * sum(g * prod_(h != f)
        e_h)`, so the `[S, D, B, N**F]` product `e * g` is never formed."""
        per_factor = _factor_signals(g, self.e_factors)                   # [F, S, D, B, N]
        return self._to_input_layout(per_factor)                          # [B, S*F, D, N]

    def winner_signal(self, idx, k, values):
        f, n = self.num_factors, self.nodes
        s, d, b = idx[:, 0], idx[:, 1], idx[:, 2]
        targets = []
        for i in range(f):
            digit = (k // n ** (f - 1 - i)) % n                             # node in factor i
            targets.append(tf.stack([b, s * f + i, d, digit], axis=1))
        return tf.scatter_nd(tf.concat(targets, axis=0), tf.tile(values, [f]),
                             tf.shape(self.input, tf.int64))

    def _to_input_layout(self, t):
        """`[F, S, D, B, N]` -> `[B, S*F, D, N]`."""
        t = tf.transpose(t, [3, 1, 0, 2, 4])                               # [B, S, F, D, N]
        return tf.reshape(t, [-1] + list(self.input.shape[1:]))


@xla_when_large
def _factor_signals(g, e_factors):
    """`g` `[S, D, B, N**F]`, e_factors `[F, S, D, B, N]` -> `[F, S, D, B, N]` (see signal_of)."""
    f, n = e_factors.shape[0], e_factors.shape[-1]
    g = tf.reshape(g, _shape_list(g)[:3] + [n] * f)                        # [S, D, B, N, .., N]
    per_factor = []
    for i in range(f):
        t = g
        for h in range(f):                         # weight by the other factors, sum them out
            if h != i:
                shape = [1] * f
                shape[h] = n
                t = t * tf.reshape(e_factors[h], _shape_list(e_factors[h])[:3] + shape)
        axes = [3 + h for h in range(f) if h != i]
        per_factor.append(e_factors[i] * tf.reduce_sum(t, axis=axes))    # [S, D, B, N]
    return tf.stack(per_factor, axis=0)


def _outer(factors, combine):
    """Combine factors `[..., N]` pairwise into `[..., N**F]`, the first factor most significant."""
    out = factors[0]
    for t in factors[1:]:
        out = combine(out[..., :, None], t[..., None, :])
        out = tf.reshape(out, _shape_list(out)[:-2] + [out.shape[-2] * out.shape[-1]])
    return out


def _shape_list(t):
    """Static dimensions where known, dynamic ones (e.g. the batch) otherwise."""
    dynamic = tf.shape(t)
    return [dim if dim is not None else dynamic[i] for i, dim in enumerate(t.shape)]
