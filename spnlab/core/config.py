"""Process-wide defaults for sum layers, as in LibSPN-Keras (read when a layer is constructed)."""
from spnlab.core.constraints import GreaterEqualEpsilonNormalized, LogNormalized
from spnlab.core.initializers import Dirichlet
from spnlab.core.sum_ops.default import default_sum_op, get_default_sum_op, set_default_sum_op

_defaults = {
    "accumulator_initializer": Dirichlet(alpha=1.0, axis=-2),
    "linear_accumulators_constraint": GreaterEqualEpsilonNormalized(),
    "logspace_accumulators_constraint": LogNormalized(),
}


def set_default_accumulator_initializer(initializer):
    _defaults["accumulator_initializer"] = initializer


def get_default_accumulator_initializer():
    return _defaults["accumulator_initializer"]


def set_default_linear_accumulators_constraint(constraint):
    _defaults["linear_accumulators_constraint"] = constraint


def get_default_linear_accumulators_constraint():
    return _defaults["linear_accumulators_constraint"]


def set_default_logspace_accumulators_constraint(constraint):
    _defaults["logspace_accumulators_constraint"] = constraint


def get_default_logspace_accumulators_constraint():
    return _defaults["logspace_accumulators_constraint"]


__all__ = [
    "set_default_sum_op", "get_default_sum_op", "default_sum_op",
    "set_default_accumulator_initializer", "get_default_accumulator_initializer",
    "set_default_linear_accumulators_constraint", "get_default_linear_accumulators_constraint",
    "set_default_logspace_accumulators_constraint", "get_default_logspace_accumulators_constraint",
]
