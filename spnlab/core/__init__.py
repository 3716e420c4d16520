"""spnlab.core: a TensorFlow 2 / Keras 3 SPN library, LibSPN-Keras 0.6 compatible.

Port a LibSPN-Keras model by changing `import libspn_keras as spnk` to
`import spnlab.core as spnk`. Region tensors are `[batch, scopes, decomps, nodes]`; all values
are log-probabilities.
"""
from spnlab.core import constraints, initializers, layers, losses, metrics, models, queries
from spnlab.core.config import (default_sum_op, get_default_accumulator_initializer,
                                get_default_linear_accumulators_constraint,
                                get_default_logspace_accumulators_constraint, get_default_sum_op,
                                set_default_accumulator_initializer,
                                set_default_linear_accumulators_constraint,
                                set_default_logspace_accumulators_constraint, set_default_sum_op)
from spnlab.core.models import (RegionNode, RegionVariable, SequentialSumProductNetwork, dgcspn,
                                poon_domingos, ratspn, region_graph_to_dense_spn)
from spnlab.core.optimizers import OnlineExpectationMaximization
from spnlab.core.queries import (conditional, log_likelihood, marginal, mpe,
                                 posterior_leaf_marginals, posterior_mean, sample,
                                 variable_marginals)
from spnlab.core.sum_ops import (SumOpBase, SumOpEMBackprop, SumOpGradBackprop,
                                 SumOpHardEMBackprop, SumOpSampleBackprop,
                                 SumOpUnweightedHardEMBackprop)
from spnlab.core import optimizers, sum_ops  # noqa: E402  (module access as in LibSPN-Keras)

__all__ = [
    "constraints", "initializers", "layers", "losses", "metrics", "models", "optimizers",
    "queries", "sum_ops", "SumOpBase", "SumOpGradBackprop", "SumOpEMBackprop",
    "SumOpHardEMBackprop", "SumOpUnweightedHardEMBackprop", "SumOpSampleBackprop",
    "set_default_sum_op", "get_default_sum_op", "default_sum_op",
    "set_default_accumulator_initializer", "get_default_accumulator_initializer",
    "set_default_linear_accumulators_constraint", "get_default_linear_accumulators_constraint",
    "set_default_logspace_accumulators_constraint", "get_default_logspace_accumulators_constraint",
    "OnlineExpectationMaximization", "SequentialSumProductNetwork", "RegionNode",
    "RegionVariable", "region_graph_to_dense_spn", "ratspn", "poon_domingos", "dgcspn",
    "log_likelihood", "marginal", "conditional", "posterior_leaf_marginals", "variable_marginals", "mpe", "posterior_mean",
    "sample",
]
