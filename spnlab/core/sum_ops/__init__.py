"""The five sum ops: same forward value, different backward passes (DESIGN.md section 3)."""
from spnlab.core.sum_ops.base import SumOpBase
from spnlab.core.sum_ops.default import default_sum_op, get_default_sum_op, set_default_sum_op
from spnlab.core.sum_ops.em import SumOpEMBackprop
from spnlab.core.sum_ops.grad import SumOpGradBackprop
from spnlab.core.sum_ops.hard_em import SumOpHardEMBackprop, SumOpSampleBackprop
from spnlab.core.sum_ops.unweighted import SumOpUnweightedHardEMBackprop

__all__ = [
    "SumOpBase", "SumOpGradBackprop", "SumOpEMBackprop", "SumOpHardEMBackprop",
    "SumOpUnweightedHardEMBackprop", "SumOpSampleBackprop",
    "set_default_sum_op", "get_default_sum_op", "default_sum_op",
]
