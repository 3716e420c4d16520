"""Queries on layer SPNs as free functions: likelihood, marginals, conditionals, MPE, samples."""
from spnlab.core.queries.inference import (conditional, log_likelihood, marginal, mpe,
                                           posterior_leaf_marginals, posterior_mean, sample,
                                           variable_marginals)

__all__ = ["log_likelihood", "marginal", "conditional", "posterior_leaf_marginals",
           "variable_marginals", "mpe", "posterior_mean", "sample"]
