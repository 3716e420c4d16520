"""SumOpEMBackprop: soft expectation maximisation."""
from spnlab.core.sum_ops.base import SumOpBase, register, soft_signals


@register
class SumOpEMBackprop(SumOpBase):
    """Soft EM: posterior counts flow down, expected counts go to the optimiser.

    The child signal is `sum_j dy_j p_ij` (the exact gradient). The accumulator signal is the
    expected count `g_ij = sum_b dy_bj p_bij` (with a mean NLL loss, minus the mean posterior
    counts). `OnlineExpectationMaximization` normalises `C = -g` over the children of every sum
    (0 for a sum the batch did not reach) after adding up replicas and accumulated batches, and
    applies `A <- normalise((1 - lr) A + lr C)`. Needs linear accumulators.

    LibSPN-Keras normalised the counts inside the backward pass, so under tf.distribute each
    replica's counts were normalised before being summed; normalising in the optimiser gives
    the same update on one device and the right one on several.
    """

    needs_linear_accumulators = True
    normalizes_counts = True
    soft_backward = True

    def _backward(self, cache, dy):
        return soft_signals(cache, dy)
