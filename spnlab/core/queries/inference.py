"""Free-function queries on layer SPNs (DESIGN.md section 4).

Every function takes the model and data `[batch, num_vars]`; an `evidence_mask` `[batch,
num_vars]` marks observed entries (True). Unobserved entries may hold anything, NaN included.
None of them changes the model.
"""
import numpy as np
import tensorflow as tf

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf
from spnlab.core.queries.runner import check_data, find_leaf, num_variables, run_to_leaves
from spnlab.core.sum_ops.em import SumOpEMBackprop
from spnlab.core.sum_ops.hard_em import MaxProductBackprop, SumOpHardEMBackprop, \
    SumOpSampleBackprop

MPE_METHODS = ("max_product", "hard_em")


def log_likelihood(model, x):
    """`log p(x)` per sample, `[B]` (numpy)."""
    x, _ = check_data(model, x)
    return run_to_leaves(model, x, signal=False).log_value.numpy()


def marginal(model, x, evidence_mask):
    """`log p(x_E)` per sample, the unobserved variables summed out, `[B]` (numpy)."""
    x, mask = check_data(model, x, evidence_mask)
    return run_to_leaves(model, x, mask, signal=False).log_value.numpy()


def conditional(model, x, query_mask, evidence_mask):
    """`log p(x_Q | x_E)` = log p(x_Q, x_E) - log p(x_E) per sample, `[B]` (numpy)."""
    joint_mask = np.logical_or(np.asarray(query_mask, bool), np.asarray(evidence_mask, bool))
    return marginal(model, x, joint_mask) - marginal(model, x, evidence_mask)


def posterior_leaf_marginals(model, x, evidence_mask=None):
    """Posterior probability of every leaf component given the evidence, `[B, S, D, K]` (numpy).

    Darwiche's differential approach: d log p(e) / d log(leaf value). For a variable v, the
    entries of scope v sum to 1 over decomps and components (every induced tree holds one leaf
    for each variable).
    """
    x, mask = check_data(model, x, evidence_mask)
    return run_to_leaves(model, x, mask, sum_op=SumOpEMBackprop()).leaf_signal.numpy()


def variable_marginals(model, x, evidence_mask=None):
    """Posterior distribution of every discrete variable given the evidence, `[B, V, C]` (numpy).

    Needs an `IndicatorLeaf` (C = num_components) or a `CategoricalLeaf` (C = num_categories)
    directly after `FlatToRegions`. Observed variables get a one-hot row.
    """
    x, mask = check_data(model, x, evidence_mask)
    leaf_pass = run_to_leaves(model, x, mask, sum_op=SumOpEMBackprop())
    g = leaf_pass.leaf_signal                                            # [B, V, D, K]
    leaf = leaf_pass.leaf
    if isinstance(leaf, IndicatorLeaf):
        probs = tf.reduce_sum(g, axis=2)                                 # [B, V, K]
    elif isinstance(leaf, CategoricalLeaf):
        pmf = tf.exp(leaf.log_probs())[0, ..., 0, :]                     # [V, D, K, C]
        probs = tf.einsum("bvdk,vdkc->bvc", g, pmf)                      # unobserved: mixture
        one_hot = tf.one_hot(tf.cast(x, tf.int32), leaf.num_categories)  # observed: the value
        probs = one_hot if mask is None else tf.where(mask[..., None], one_hot, probs)
    else:
        raise TypeError("variable_marginals needs an IndicatorLeaf or CategoricalLeaf. "
                        f"Received a model with {type(leaf).__name__}")
    return probs.numpy()


def complete_from_leaves(leaf_pass, x, mask, values):
    """Fill unobserved entries of `x` from per-component `values [B|1, S, D, K, V]`, weighted by
    the leaf signal (one-hot for MPE and sampling, posteriors for the posterior mean)."""
    g = leaf_pass.leaf_signal                                            # [B, S, D, K]
    weight = tf.math.divide_no_nan(g, tf.reduce_sum(g, axis=[2, 3], keepdims=True))
    filled = tf.reduce_sum(weight[..., None] * tf.cast(values, g.dtype), axis=[2, 3])  # [B, S, V]
    if leaf_pass.normalizer is not None:
        mean, std = leaf_pass.stats
        filled = leaf_pass.normalizer.denormalize(filled[..., 0], mean, std)[..., None]
    filled = filled[..., 0] if len(x.shape) == 2 else filled
    filled = tf.cast(filled, x.dtype) if x.dtype.is_floating else \
        tf.cast(tf.round(filled), x.dtype)
    if mask is None:
        return filled.numpy()
    m = mask if len(mask.shape) == len(x.shape) else mask[..., None]
    return tf.where(m, x, filled).numpy()


def mpe(model, x, evidence_mask=None, method="max_product", seed=None):
    """Most probable explanation of the unobserved variables; observed values are kept.

    Args:
        method: "max_product": the max-product upward pass (sums become weighted maxes,
            unobserved leaves their mode's density) and top-down backtracking, i.e. the MPE of
            the SPN's induced trees. "hard_em": LibSPN-Keras' completion, the hard-EM signal of
            the ordinary (sum) pass sent to the leaves, then the modes of the reached leaves.
        seed: seed for breaking ties.

    Returns:
        The completed data, same shape and dtype as `x` (numpy).
    """
    if method not in MPE_METHODS:
        raise ValueError(f"Expected `method` in {MPE_METHODS}. Received: method={method!r}")
    x, mask = check_data(model, x, evidence_mask)
    if method == "max_product":
        leaf_pass = run_to_leaves(model, x, mask, MaxProductBackprop(seed), marginalize="max")
    else:
        leaf_pass = run_to_leaves(model, x, mask, SumOpHardEMBackprop(seed=seed))
    return complete_from_leaves(leaf_pass, x, mask, leaf_pass.leaf.modes())


def posterior_mean(model, x, evidence_mask=None):
    """Posterior expectation of the component modes for the unobserved variables (numpy).

    For indicator leaves this is E[x_v | evidence]; for continuous leaves the posterior mean of
    the component locations.
    """
    x, mask = check_data(model, x, evidence_mask)
    leaf_pass = run_to_leaves(model, x, mask, SumOpEMBackprop())
    return complete_from_leaves(leaf_pass, x, mask, leaf_pass.leaf.modes())


def sample(model, num_samples=None, x=None, evidence_mask=None, seed=None):
    """Ancestral samples, optionally conditioned on evidence (numpy).

    Without evidence give `num_samples`; with evidence give `x` and `evidence_mask` (one sample
    per row, observed entries kept). Sums pick a child from their posterior
    (`SumOpSampleBackprop`), then each reached leaf component draws a value.
    """
    if x is None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
                or num_samples < 1:
            raise ValueError("Expected `num_samples` to be a positive int when `x` is None. "
                             f"Received: num_samples={num_samples!r}")
        n_vars = num_variables(model)
        dtype = "int32" if isinstance(find_leaf(model), (IndicatorLeaf, CategoricalLeaf)) \
            else "float32"
        x = np.zeros([int(num_samples), n_vars], dtype=dtype)
        evidence_mask = np.zeros(x.shape, dtype=bool)
    x, mask = check_data(model, x, evidence_mask)
    op = SumOpSampleBackprop(seed=seed)
    leaf_pass = run_to_leaves(model, x, mask, op)
    draws = leaf_pass.leaf.sample_components(op._generator, tf.shape(x)[0])
    return complete_from_leaves(leaf_pass, x, mask, draws)
