"""SumOpUnweightedHardEMBackprop: hard EM whose winner ignores the weights."""
import tensorflow as tf

from spnlab.core.sum_ops.base import SumOpBase, check_sample_prob, make_generator, register
from spnlab.core.sum_ops.winners import select_winners


@register
class SumOpUnweightedHardEMBackprop(SumOpBase):
    """Hard EM with one winner per (sample, region) `k_b = argmax_i x_bi`, ignoring the weights.

    All sums over the same children share the winner; child k receives `sum_j dy_bj` and the
    accumulator signal is `sum_b dy_bj [k_b = i]`. Weighted hard EM self-amplifies (a child that
    wins gets more weight, so it wins more); this variant does not, because the weights never
    enter the choice. Pair with the `EpsilonInverseFanIn` initializer.

    Args:
        sample_prob: None or a number in [0, 1]; with that probability the winner is drawn from
            `softmax_i(x_i)` instead of taken by argmax.
        seed: optional int seed of the tie-breaking and sampling generator.
    """

    needs_linear_accumulators = True

    def __init__(self, sample_prob=None, seed=None):
        self.sample_prob = check_sample_prob(sample_prob)
        self.seed = seed
        self._generator = make_generator(seed)

    def _backward(self, cache, dy):
        x = cache.x                                                      # [B, S, D, I]
        rows = tf.reshape(x, [-1, tf.shape(x)[-1]])                      # [B*S*D, I]
        k = select_winners(rows, self._generator, self.sample_prob)      # [B*S*D]
        one_hot = tf.reshape(tf.one_hot(k, tf.shape(x)[-1], dtype=x.dtype), tf.shape(x))
        dx = one_hot * tf.reduce_sum(dy, axis=-1, keepdims=True)         # [B, S, D, I]
        d_log_w = tf.einsum("bsdi,bsdo->sdio", one_hot, dy)              # [S, D, I, O]
        return dx, d_log_w

    def get_config(self):
        return {"sample_prob": self.sample_prob, "seed": self.seed}
