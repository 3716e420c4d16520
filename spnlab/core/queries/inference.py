"""Free-function queries on layer SPNs (DESIGN.md section 4).

Every function takes the model and data `[batch, num_vars]`; an `evidence_mask` `[batch,
num_vars]` marks observed entries (True). Unobserved entries may hold anything, NaN included.
None of them changes the model.

Spatial models (DGC-SPNs, whose leaf reads images directly; see `runner.is_spatial`) take data
`[batch, rows, cols, channels]` and a per-pixel mask `[batch, rows, cols]`, `[batch, rows,
cols, 1]` or `[batch, rows, cols, channels]` (the same for all channels of a pixel). Their
variables are the pixels; completions and samples come back as `[batch, rows, cols,
channels]`, like the data.
"""
import numpy as np
import tensorflow as tf

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf
from spnlab.core.queries.passes import check_num_samples, mpe_pass, posterior_pass, sample_pass
from spnlab.core.queries.runner import check_data, check_mask, empty_data, run_to_leaves


def log_likelihood(model, x):
    """`log p(x)` per sample, `[B]` (numpy)."""
    x, _ = check_data(model, x)
    return run_to_leaves(model, x, signal=False).log_value.numpy()


def marginal(model, x, evidence_mask):
    """`log p(x_E)` per sample, the unobserved variables summed out, `[B]` (numpy)."""
    x, mask = check_data(model, x, evidence_mask)
    return run_to_leaves(model, x, mask, signal=False).log_value.numpy()


def conditional(model, x, query_mask, evidence_mask):
    """`log p(x_Q | x_E)` = log p(x_Q, x_E) - log p(x_E) per sample, `[B]` (numpy).

    Both masks are checked (and named in errors) before they are combined; for a spatial model
    each may take any of the per-pixel forms."""
    checked, _ = check_data(model, x)
    query_mask = check_mask(model, checked.numpy(), query_mask, "query_mask")
    evidence_mask = check_mask(model, checked.numpy(), evidence_mask)
    joint_mask = np.logical_or(np.asarray(query_mask, bool), np.asarray(evidence_mask, bool))
    return marginal(model, x, joint_mask) - marginal(model, x, evidence_mask)


def posterior_leaf_marginals(model, x, evidence_mask=None):
    """Posterior probability of every leaf component given the evidence, `[B, S, D, K]` (numpy);
    `[B, H, W, K]` for a spatial model.

    Darwiche's differential approach: d log p(e) / d log(leaf value). For a variable v, the
    entries of scope v sum to 1 over decomps and components (every induced tree holds one leaf
    for each variable); for a spatial model those of a pixel sum to 1 over the components.
    """
    x, mask = check_data(model, x, evidence_mask)
    return run_to_leaves(model, x, mask, sum_op=posterior_pass()).leaf_signal.numpy()


def variable_marginals(model, x, evidence_mask=None):
    """Posterior distribution of every discrete variable given the evidence, `[B, V, C]` (numpy).

    Needs an `IndicatorLeaf` (C = num_components) or a `CategoricalLeaf` (C = num_categories)
    directly after `FlatToRegions`. Observed variables get a one-hot row.

    Spatial models: `[B, H, W, channels, C]`, the data's shape with a trailing axis of values,
    so `out[..., k]` is `p(x = k | evidence)` in the data's layout (for an `IndicatorLeaf`,
    whose component k means "every channel of the pixel is k", the same for all channels).
    """
    x, mask = check_data(model, x, evidence_mask)
    leaf_pass = run_to_leaves(model, x, mask, sum_op=posterior_pass())
    g = leaf_pass.leaf_signal                                            # [B, V, D, K]
    leaf = leaf_pass.leaf
    if leaf_pass.spatial:
        return _spatial_variable_marginals(leaf, g, x, mask).numpy()
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


def _spatial_variable_marginals(leaf, g, x, mask):
    """`[B, H, W, C, values]` from the posterior of the pixel leaves `g [B, H, W, K]`."""
    chans = x.shape[3]
    if isinstance(leaf, IndicatorLeaf):
        return tf.repeat(g[..., None, :], chans, axis=3)                  # [B, H, W, C, K]
    if isinstance(leaf, CategoricalLeaf):
        pmf = tf.exp(leaf.log_probs())[0]                                # [H, W, K, C, N]
        probs = tf.einsum("bhwk,hwkcn->bhwcn", g, pmf)                   # unobserved: mixture
        one_hot = tf.one_hot(tf.cast(x, tf.int32), leaf.num_categories)  # observed: the value
        return one_hot if mask is None else tf.where(mask[..., None], one_hot, probs)
    raise TypeError("variable_marginals needs an IndicatorLeaf or CategoricalLeaf. "
                    f"Received a model with {type(leaf).__name__}")


def complete_from_leaves(leaf_pass, x, mask, values):
    """Fill unobserved entries of `x` from per-component `values [B|1, S, D, K, V]`, weighted by
    the leaf signal (one-hot for MPE and sampling, posteriors for the posterior mean).

    Region models sum over decomps and components (`[B, S, D, K]` signal); spatial models, whose
    leaf signal is `[B, H, W, K]` and values `[B|1, H, W, K, C]`, over the components only, so
    the result has the data's shape `[B, H, W, C]`."""
    g = leaf_pass.leaf_signal                                            # [B, S, D, K]
    axes = [3] if leaf_pass.spatial else [2, 3]
    weight = tf.math.divide_no_nan(g, tf.reduce_sum(g, axis=axes, keepdims=True))
    filled = tf.reduce_sum(weight[..., None] * tf.cast(values, g.dtype), axis=axes)
    # region: [B, S, V] -> the data's [B, S] (or [B, S, V]); spatial: already [B, H, W, C]
    filled = filled[..., 0] if len(x.shape) == 2 else filled
    if leaf_pass.normalizer is not None:
        mean, std = leaf_pass.stats                              # computed on data shaped as x
        filled = leaf_pass.normalizer.denormalize(filled, mean, std)
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
        The completed data, same shape and dtype as `x` (numpy; `[B, H, W, C]` for a spatial
        model).
    """
    op, marginalize = mpe_pass(method, seed)
    x, mask = check_data(model, x, evidence_mask)
    leaf_pass = run_to_leaves(model, x, mask, op, marginalize=marginalize)
    return complete_from_leaves(leaf_pass, x, mask, leaf_pass.leaf.modes())


def posterior_mean(model, x, evidence_mask=None):
    """Posterior expectation of the component modes for the unobserved variables (numpy).

    For indicator leaves this is E[x_v | evidence]; for continuous leaves the posterior mean of
    the component locations. Float32 also for integer data: a mean need not be a state.
    """
    x, mask = check_data(model, x, evidence_mask)
    leaf_pass = run_to_leaves(model, x, mask, posterior_pass())
    return complete_from_leaves(leaf_pass, tf.cast(x, tf.float32), mask, leaf_pass.leaf.modes())


def sample(model, num_samples=None, x=None, evidence_mask=None, seed=None):
    """Ancestral samples, optionally conditioned on evidence (numpy).

    Without evidence give `num_samples`; with evidence give `x` and `evidence_mask` (one sample
    per row, observed entries kept). Samples have the data's shape (`[n, V]`, or `[n, H, W,
    C]` for a spatial model). Sums pick a child from their posterior
    (`SumOpSampleBackprop`), then each reached leaf component draws a value.
    """
    num_samples = check_num_samples(num_samples, x)
    if x is None:
        x, evidence_mask = empty_data(model, num_samples)
    x, mask = check_data(model, x, evidence_mask)
    op = sample_pass(seed)
    leaf_pass = run_to_leaves(model, x, mask, op)
    draws = leaf_pass.leaf.sample_components(op._generator, tf.shape(x)[0])
    return complete_from_leaves(leaf_pass, x, mask, draws)
