"""Hard EM and sampling: one winning child per sum and sample."""
import tensorflow as tf

from spnlab.core.sum_ops.base import SumOpBase, check_sample_prob, make_generator, register
from spnlab.core.sum_ops.winners import select_winners


def winner_signals(cache, dy, generator, sample_prob):
    """Signals when every (sample, sum) sends its whole signal to one child.

    Winners are chosen only where `dy != 0`: in hard EM the signal runs down a few paths, so
    this costs `nnz(dy) * num_in` instead of `batch * num_out * num_in` per region.

    Returns:
        `(dx [B,S,D,I], d_log_w [S,D,I,O])`: dx[b,s,d,k] = sum_j dy[b,s,d,j] [k = winner],
        d_log_w[s,d,k,j] = sum_b dy[b,s,d,j] [k = winner].
    """
    idx = tf.where(tf.not_equal(dy, 0))                              # [N, 4]: (b, s, d, j)
    dy_vals = tf.gather_nd(dy, idx)                                  # [N]
    x_rows = tf.gather_nd(cache.x, idx[:, :3])                       # [N, I]
    w_cols = tf.gather_nd(tf.transpose(cache.log_w, [0, 1, 3, 2]), idx[:, 1:])   # [N, I]
    k = select_winners(x_rows + w_cols, generator, sample_prob)      # [N]
    k = k[:, None]
    dx = tf.scatter_nd(tf.concat([idx[:, :3], k], axis=1), dy_vals, tf.shape(cache.x, tf.int64))
    d_log_w = tf.scatter_nd(tf.concat([idx[:, 1:3], k, idx[:, 3:]], axis=1), dy_vals,
                            tf.shape(cache.log_w, tf.int64))
    return dx, d_log_w


@register
class SumOpHardEMBackprop(SumOpBase):
    """Hard EM: each sum sends its signal to its winning child `argmax_i x_i + l_ij`.

    Ties are broken uniformly at random. The accumulator signal is the raw winner count
    `sum_b dy_bj [k_bj = i]` (with a mean loss, the counts divided by the batch size).

    Args:
        sample_prob: None or a number in [0, 1]; with that probability a winner is drawn from the
            posterior `softmax_i(x_i + l_ij)` instead of taken by argmax. (LibSPN-Keras drew from
            the unweighted children here; we draw from the weighted posterior, as the name says.)
        seed: optional int seed of the tie-breaking and sampling generator.
    """

    needs_linear_accumulators = True

    def __init__(self, sample_prob=None, seed=None):
        self.sample_prob = check_sample_prob(sample_prob)
        self.seed = seed
        self._generator = make_generator(seed)

    def _backward(self, cache, dy):
        return winner_signals(cache, dy, self._generator, self.sample_prob)

    def get_config(self):
        return {"sample_prob": self.sample_prob, "seed": self.seed}


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
