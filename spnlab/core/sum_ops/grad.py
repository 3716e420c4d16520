"""SumOpGradBackprop: the exact gradient."""
from spnlab.core.sum_ops.base import SumOpBase, register, soft_signals


@register
class SumOpGradBackprop(SumOpBase):
    """Sums whose backward pass is the exact gradient of the log-value.

    Child signal `sum_j dy_j p_ij`, accumulator signal the exact gradient through the weight
    normalisation, so any Keras optimiser (SGD, Adam) trains the weights.

    Args:
        logspace_accumulators: whether sum layers using this op keep their accumulators in log
            space. None (the default) means True, as in LibSPN-Keras.
    """

    chain_to_accumulators = True
    soft_backward = True

    def __init__(self, logspace_accumulators=None):
        if logspace_accumulators is not None and not isinstance(logspace_accumulators, bool):
            raise TypeError("Expected `logspace_accumulators` to be None or a bool. "
                            f"Received: logspace_accumulators={logspace_accumulators!r}")
        self.logspace_accumulators = logspace_accumulators

    def default_logspace_accumulators(self):
        return True if self.logspace_accumulators is None else self.logspace_accumulators

    def _backward(self, cache, dy):
        return soft_signals(cache, dy)

    def get_config(self):
        return {"logspace_accumulators": self.logspace_accumulators}
