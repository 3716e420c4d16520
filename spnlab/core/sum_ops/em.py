"""SumOpEMBackprop: soft expectation maximisation."""
import tensorflow as tf

from spnlab.core.sum_ops.base import SumOpBase, register, soft_signals


@register
class SumOpEMBackprop(SumOpBase):
    """Soft EM: posterior counts flow down, normalised expected counts go to the optimiser.

    The child signal is `sum_j dy_j p_ij` (the exact gradient). The accumulator signal is the
    per-sum expected count `g_ij = sum_b dy_bj p_bij` divided by `|sum_i g_ij|`, so that
    `C = -g` sums to 1 over the children of every sum that the batch reached (and is 0 for a sum
    it did not reach). With `OnlineExpectationMaximization` this gives
    `A <- normalise((1 - lr) A + lr C)`. Needs linear accumulators.
    """

    needs_linear_accumulators = True

    def _backward(self, cache, dy):
        return soft_signals(cache, dy)

    def _accumulator_signal(self, accumulators, logspace, d_log_w):
        total = tf.abs(tf.reduce_sum(d_log_w, axis=-2, keepdims=True))     # [.., 1, O]
        return tf.math.divide_no_nan(d_log_w, total)
