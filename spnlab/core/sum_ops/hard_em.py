"""Hard EM and sampling: one winning child per sum and sample."""
import tensorflow as tf

from spnlab.core.sum_ops.base import WinnerSumOp, register
from spnlab.core.sum_ops.winners import select_winners


def winner_signals(cache, dy, generator, sample_prob):
    """Signals when every (sample, sum) sends its whole signal to one child.

    Winners are chosen only where `dy != 0`: in hard EM the signal runs down a few paths, so
    this costs `nnz(dy) * num_in` instead of `batch * num_out * num_in` per region, and the
    child signal is scattered straight into the layer input (for fused products, into the
    factors), never through a dense `[S, D, B, I]` tensor.

    Args:
        dy: `[S, D, B, O]`.

    Returns:
        `(dx, d_log_w [S,D,I,O])`: child k of row (s, d, b) receives sum_j dy[s,d,b,j] [k = winner],
        d_log_w[s,d,k,j] = sum_b dy[s,d,b,j] [k = winner].
    """
    idx = tf.where(tf.not_equal(dy, 0))                              # [n, 4]: (s, d, b, j)
    dy_vals = tf.gather_nd(dy, idx)                                  # [n]
    x_rows = cache.children.rows(idx[:, :3])                         # [n, I]
    num_in = tf.shape(cache.w, tf.int64)[2]
    # The weight column of each row's sum: w[s, d, :, j], gathered as n * I scalars.
    i = tf.range(num_in)[None, :, None]                              # [1, I, 1]
    sd = tf.broadcast_to(idx[:, None, :2], tf.concat([tf.shape(x_rows, tf.int64), [2]], 0))
    j = tf.broadcast_to(idx[:, None, 3:], tf.concat([tf.shape(x_rows, tf.int64), [1]], 0))
    w_cols = tf.math.log(tf.gather_nd(cache.w, tf.concat(
        [sd, tf.broadcast_to(i, tf.shape(j)), j], axis=-1)))         # [n, I] log-weights
    k = select_winners(x_rows + w_cols, generator, sample_prob)      # [n]
    dx = cache.children.winner_signal(idx[:, :3], k, dy_vals)
    d_log_w = tf.scatter_nd(tf.stack([idx[:, 0], idx[:, 1], k, idx[:, 3]], axis=1), dy_vals,
                            tf.shape(cache.w, tf.int64))
    return dx, d_log_w


@register
class SumOpHardEMBackprop(WinnerSumOp):
    """Hard EM: each sum sends its signal to its winning child `argmax_i x_i + l_ij`.

    Ties are broken uniformly at random. The accumulator signal is the raw winner count
    `sum_b dy_bj [k_bj = i]` (with a mean loss, the counts divided by the batch size).

    Args:
        sample_prob: None or a number in [0, 1]; with that probability a winner is drawn from the
            posterior `softmax_i(x_i + l_ij)` instead of taken by argmax. (LibSPN-Keras drew from
            the unweighted children here; we draw from the weighted posterior, as the name says.)
        seed: optional int seed of the tie-breaking and sampling generator.
    """

    def _backward(self, cache, dy):
        return winner_signals(cache, dy, self._generator, self.sample_prob)


@register
class SumOpSampleBackprop(SumOpHardEMBackprop):
    """Each sum sends its signal to one child drawn from `softmax_i(x_i + l_ij)`.

    Backpropagating from the root with this op and no evidence is ancestral sampling. It is
    hard EM with `sample_prob=1`.

    Args:
        seed: optional int seed of the sampling generator.
    """

    def __init__(self, seed=None):
        super().__init__(sample_prob=1.0, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class MaxProductBackprop(SumOpHardEMBackprop):
    """Internal op for MPE: max-product forward (`y = max_i x_i + l_ij`), argmax backward."""

    max_product = True

    def __init__(self, seed=None):
        super().__init__(sample_prob=None, seed=seed)

    def get_config(self):
        return {"seed": self.seed}
