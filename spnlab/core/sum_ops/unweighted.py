"""SumOpUnweightedHardEMBackprop: hard EM whose winner ignores the weights."""
import tensorflow as tf

from spnlab.core.sum_ops.base import WinnerSumOp, register


@register
class SumOpUnweightedHardEMBackprop(WinnerSumOp):
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

    def _backward(self, cache, dy):
        k = cache.children.row_winners(self._generator, self.sample_prob)  # [S, D, B]
        rows = tf.where(tf.ones_like(k, dtype=tf.bool))                  # [S*D*B, 3]: (s, d, b)
        dx = cache.children.winner_signal(rows, tf.reshape(k, [-1]),
                                          tf.reshape(tf.reduce_sum(dy, axis=-1), [-1]))
        # d_log_w[s, d, i, :] = sum over rows b with winner i of dy[s, d, b, :]
        scopes, decomps, num_in = cache.w.shape[0], cache.w.shape[1], cache.w.shape[2]
        segment = (rows[:, 0] * decomps + rows[:, 1]) * num_in + tf.reshape(k, [-1])
        d_log_w = tf.math.unsorted_segment_sum(tf.reshape(dy, [-1, dy.shape[-1]]), segment,
                                               scopes * decomps * num_in)
        return dx, tf.reshape(d_log_w, [scopes, decomps, num_in, dy.shape[-1]])
