"""What the two query stacks share: which sum op and marginalisation a query's pass to the
leaves uses, and the checks of their common arguments.

Layer SPNs (`spnlab.core.queries`) and node graphs (`spnlab.graph.queries`) answer the same
queries the same way ("backprop to the leaves"): one upward pass, then the signal of the root
at the leaves under a query sum op. Only the tensors differ, so the choices live here once.
"""
import numbers

import numpy as np

from spnlab.core.sum_ops.em import SumOpEMBackprop
from spnlab.core.sum_ops.hard_em import MaxProductBackprop, SumOpHardEMBackprop, \
    SumOpSampleBackprop

MPE_METHODS = ("max_product", "hard_em")


def mpe_pass(method, seed=None):
    """`(sum_op, marginalize)` of an MPE query.

    "max_product": sums become weighted maxes and unobserved leaves give their mode's density
    (`marginalize="max"`); the hard-EM backward then backtracks the MPE induced tree.
    "hard_em": LibSPN-Keras' completion, the ordinary sum pass (unobserved leaves give 1) and
    the hard-EM backward, each sum following its child of largest weighted value.
    """
    if method not in MPE_METHODS:
        raise ValueError(f"Expected `method` in {MPE_METHODS}. Received: method={method!r}")
    if method == "max_product":
        return MaxProductBackprop(seed), "max"
    return SumOpHardEMBackprop(seed=seed), "sum"


def posterior_pass():
    """The op whose leaf signal is each leaf's posterior probability (soft EM: the derivative
    of the log-value, Darwiche's differential approach)."""
    return SumOpEMBackprop()


def sample_pass(seed=None):
    """The op that sends each sum's signal to one child drawn from its posterior; draw the
    leaves' values with its `_generator` so that one seed fixes the whole sample."""
    return SumOpSampleBackprop(seed=seed)


def check_num_samples(num_samples, x):
    """For `sample(num_samples=None, x=None, ...)`: exactly one of the two; returns
    `num_samples` as an int (None when `x` is given)."""
    if x is not None:
        if num_samples is not None:
            raise ValueError("Expected either `num_samples` or `x`, not both. "
                             f"Received: num_samples={num_samples!r}")
        return None
    if not isinstance(num_samples, (numbers.Integral, np.integer)) \
            or isinstance(num_samples, (bool, np.bool_)) or num_samples < 1:
        raise ValueError("Expected `num_samples` to be a positive int when `x` is None. "
                         f"Received: num_samples={num_samples!r}")
    return int(num_samples)
