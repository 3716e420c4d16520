"""Queries on node graphs (DESIGN.md section 4), as free functions like `spnlab.core.queries`.

Every function takes `spn`, a root node (compiled on the spot with the graph's current
parameters) or a `GraphModel` (its trained variables), and data `x [B, C]` or `[B, C + L]` in
the column order of `variables` (default: the graph's variables in creation order; the optional
extra L columns are the latent variables of latent indicators). `evidence_mask` marks observed
entries; unobserved entries may hold anything, NaN included.

As the layer queries, they run one upward pass with a chosen sum op and take the signal at the
leaves ("backprop to the leaves"): soft-EM posteriors for marginals, the hard-EM backward of the
max-product op for MPE backtracking, `SumOpSampleBackprop` for ancestral sampling.
"""
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from spnlab.core.queries.passes import check_num_samples, mpe_pass, posterior_pass, sample_pass
from spnlab.core.sum_ops.em import SumOpEMBackprop
from spnlab.graph.data import check_data
from spnlab.graph.keras_model import GraphModel
from spnlab.graph.leaf_values import leaf_log_values
from spnlab.graph.nodes import Node

MARGINAL_METHODS = ("derivative", "evaluate")


class LeafPass(NamedTuple):
    """Root log-values `[B]`, the signal at the leaf outputs `[L0, B]` (or None), the data."""

    log_value: tf.Tensor
    leaf_signal: object
    data: object


class MPEResult(NamedTuple):
    """`x`: the completed data `[B, C + L]` (observed entries kept, latent columns included);
    `log_value`: the max-product log-value of the root `[B]` (the log-probability of the MPE
    state's induced tree)."""

    x: np.ndarray
    log_value: np.ndarray


def as_model(spn, variables=None):
    """A `GraphModel` for a root node (weights and leaf parameters as in the graph), or `spn`
    itself when it is one."""
    if isinstance(spn, GraphModel):
        names = [getattr(v, "name", v) for v in variables or ()]
        if variables is not None and names != [v.name for v in spn.plan.columns.data]:
            raise ValueError("Expected no `variables` for a GraphModel, or its own columns. "
                             f"Received: variables={variables!r}")
        return spn
    if isinstance(spn, Node):
        return GraphModel(spn, sum_op=SumOpEMBackprop(), variables=variables, train_leaves=False)
    raise TypeError(f"Expected `spn` to be a root Node or a GraphModel. Received: spn={spn!r}")


def run_to_leaves(model, data, sum_op, marginalize="sum", signal=True):
    """Upward pass with `sum_op` (None: values only) and evidence, and, with `signal`,
    d(sum_b log-value)/d(leaf log-values) under that op's backward pass."""
    x, mask = tf.constant(data.x), tf.constant(data.mask)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        leaves = leaf_log_values(model.plan.leaves, model.leaf_params, x, mask, marginalize)
        tape.watch(leaves)
        root = model.upward(leaves, sum_op)                               # [B]
        total = tf.reduce_sum(root)
    grad = None
    if signal:  # the gathers make it IndexedSlices; a leaf no sum reached gets 0
        grad = tf.convert_to_tensor(tape.gradient(
            total, leaves, unconnected_gradients=tf.UnconnectedGradients.ZERO))
    return LeafPass(root, grad, data)


def log_value(spn, x, evidence_mask=None, variables=None):
    """`log S(x)` per sample `[B]`; with `evidence_mask`, the marginal `log p(x_E)` (numpy)."""
    model = as_model(spn, variables)
    data = check_data(model.plan.columns, x, evidence_mask)
    return run_to_leaves(model, data, None, signal=False).log_value.numpy()


def value(spn, x, evidence_mask=None, variables=None):
    """`S(x)` per sample `[B]` (the probability, or density, of the evidence; numpy)."""
    return np.exp(log_value(spn, x, evidence_mask, variables))


def marginal(spn, x, evidence_mask, variables=None):
    """`log p(x_E)`: unobserved variables summed out (their leaves give 1), `[B]` (numpy)."""
    if evidence_mask is None:
        raise ValueError("Expected an `evidence_mask` for a marginal. Received: None")
    return log_value(spn, x, evidence_mask, variables)


def node_log_values(spn, x, evidence_mask=None, variables=None):
    """Log-values of every node output, `{node: [B, num_outputs]}` (numpy), e.g. for
    `to_dot(values=...)` (pass `{n: v[0, 0] ...}` for one sample)."""
    model = as_model(spn, variables)
    data = check_data(model.plan.columns, x, evidence_mask)
    leaves = model.leaf_log_values(data.x, data.mask)
    _, levels = model.upward(leaves, None, keep_levels=True)
    levels = [level.numpy() for level in levels]
    return {node: levels[level][rows].T for node, (level, rows) in model.plan.addresses.items()}


def _discrete_columns(plan):
    """`(column index, Variable)` of every discrete column (data and latent)."""
    return [(c, v) for c, v in enumerate(plan.columns.variables) if v.num_vals is not None]


def variable_marginals(spn, x=None, evidence_mask=None, variables=None, method="derivative"):
    """Posterior distribution of every discrete variable (latent ones included) given the
    evidence: `{Variable: [B, num_vals]}` (numpy). Observed variables get a one-hot row; rows
    of zero-probability evidence are all 0.

    Args:
        x, evidence_mask: the evidence; `x=None` means no evidence (one row).
        method: "derivative": one upward and backward pass, the soft-EM signal at the
            indicators (Darwiche's differential approach); "evaluate": one marginal per
            variable and value, divided by p(evidence).
    """
    if method not in MARGINAL_METHODS:
        raise ValueError(f"Expected `method` in {MARGINAL_METHODS}. Received: method={method!r}")
    model = as_model(spn, variables)
    columns = model.plan.columns
    if x is None:
        x = np.zeros([1, len(columns.data)], np.float32)
        evidence_mask = np.zeros(x.shape, bool)
    data = check_data(columns, x, evidence_mask)
    discrete = _discrete_columns(model.plan)
    if method == "evaluate":
        return _marginals_by_evaluation(model, data, discrete)
    signal = run_to_leaves(model, data, SumOpEMBackprop()).leaf_signal.numpy()   # [L0, B]
    layout = model.plan.leaves
    result = {}
    for c, var in discrete:
        rows = np.flatnonzero(layout.indicator_cols == c)
        probs = np.zeros((data.x.shape[0], var.num_vals))
        np.add.at(probs.T, layout.indicator_vals[rows].astype(np.int64), signal[rows])
        result[var] = probs
    return result


def _marginals_by_evaluation(model, data, discrete):
    """p(X_c = k, e) / p(e) for every discrete column c and value k, in one batched pass."""
    batch = data.x.shape[0]
    base = run_to_leaves(model, data, None, signal=False).log_value.numpy()
    xs, masks = [], []
    for c, var in discrete:
        for k in range(var.num_vals):
            x, mask = data.x.copy(), data.mask.copy()
            x[:, c], mask[:, c] = k, True
            xs.append(x)
            masks.append(mask)
    query = data._replace(x=np.concatenate(xs), mask=np.concatenate(masks))
    joint = run_to_leaves(model, query, None, signal=False).log_value.numpy()
    joint = joint.reshape(-1, batch)                                      # [sum_c K_c, B]
    result, start = {}, 0
    for c, var in discrete:
        with np.errstate(invalid="ignore"):
            probs = np.exp(joint[start:start + var.num_vals] - base).T   # [B, K]
        probs = np.where(np.isfinite(base)[:, None], probs, 0.0)
        observed = data.mask[:, c]
        one_hot = np.eye(var.num_vals)[data.x[:, c].astype(np.int64)]
        result[var] = np.where(observed[:, None] & np.isfinite(base)[:, None], one_hot, probs)
        start += var.num_vals
    return result


def _complete(model, leaf_pass, leaf_draws, round_discrete=True):
    """Fill the unobserved columns from the leaf rows the signal reached.

    A column's value is the signal-weighted mean of its reached rows' values (for a valid SPN,
    backtracking reaches exactly one row per variable, so this is that row's value).

    Args:
        leaf_draws: value of every normal row `[Ln, B]` (its mode, or a draw).
    """
    data, layout = leaf_pass.data, model.plan.leaves
    signal = np.abs(leaf_pass.leaf_signal.numpy())                        # [L0, B]
    values = np.concatenate([np.broadcast_to(layout.indicator_vals[:, None],
                                             (len(layout.indicator_vals), signal.shape[1])),
                             np.asarray(leaf_draws)], axis=0)              # [L0, B]
    cols = np.concatenate([layout.indicator_cols, layout.continuous_cols])
    num_cols = data.x.shape[1]
    weight = np.zeros((num_cols, signal.shape[1]))
    total = np.zeros((num_cols, signal.shape[1]))
    np.add.at(weight, cols, signal)
    np.add.at(total, cols, signal * values)
    filled = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0).T  # [B, C]
    discrete = np.array([v.num_vals is not None for v in model.plan.columns.variables])
    if round_discrete:
        filled[:, discrete] = np.round(filled[:, discrete])
    return np.where(data.mask, data.x, filled)


def _output(completed, x):
    """The completed data in `x`'s dtype when that is integral, else float32."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer):
        return completed.astype(x.dtype)
    return completed.astype(np.float32)


def _no_evidence(model, num_rows):
    """All-unobserved data: int32 zeros when every column is discrete, else float32."""
    columns = model.plan.columns.data
    dtype = np.int32 if all(v.num_vals is not None for v in columns) else np.float32
    x = np.zeros([num_rows, len(columns)], dtype)
    return x, np.zeros(x.shape, bool)


def mpe(spn, x=None, evidence_mask=None, variables=None, seed=None, method="max_product"):
    """Most probable explanation by max-product and backtracking; observed values are kept.

    The upward pass replaces every sum by its weighted max (`MaxProductBackprop`) and gives an
    unobserved leaf its mode's density; the backward pass is hard EM (each sum's signal goes to
    its winning child), so the leaves with a signal form the MPE induced tree. Unobserved
    columns take the values of the reached leaves (indicator value, leaf mode); latent
    variables their chosen child.

    Args:
        x, evidence_mask: the evidence; `x=None` means none (one row, all unobserved).
        seed: seed of the tie-breaking generator.
        method: "max_product" (above), or "hard_em": LibSPN-Keras' completion, an ordinary
            sum pass (unobserved variables summed out) and the hard-EM backward pass, each sum
            following its child of largest weighted value `x_i + log w_i`.

    Returns:
        `MPEResult(x [B, C + L], log_value [B])` (hard_em: the marginal log-value).
    """
    op, marginalize = mpe_pass(method, seed)
    model = as_model(spn, variables)
    if x is None:
        x, evidence_mask = _no_evidence(model, 1)
    data = check_data(model.plan.columns, x, evidence_mask)
    leaf_pass = run_to_leaves(model, data, op, marginalize=marginalize)
    modes = _continuous_values(model, lambda: model.leaf_params.loc_scale()[0][:, None], data)
    return MPEResult(_output(_complete(model, leaf_pass, modes), x),
                     leaf_pass.log_value.numpy())


def _continuous_values(model, make, data):
    if not len(model.plan.leaves.continuous_cols):
        return np.zeros((0, data.x.shape[0]), np.float32)
    rows = len(model.plan.leaves.continuous_cols)
    return np.broadcast_to(make().numpy(), (rows, data.x.shape[0]))


def sample(spn, num_samples=None, x=None, evidence_mask=None, variables=None, seed=None):
    """Ancestral samples, optionally conditioned on evidence, `[B, C + L]` (numpy).

    Without evidence give `num_samples`; with evidence give `x` and `evidence_mask` (one sample
    per row, observed entries kept). Every sum picks a child from its posterior given the
    evidence (`SumOpSampleBackprop`), then every reached leaf draws its variable's value.
    """
    num_samples = check_num_samples(num_samples, x)
    model = as_model(spn, variables)
    if x is None:
        x, evidence_mask = _no_evidence(model, num_samples)
    data = check_data(model.plan.columns, x, evidence_mask)
    op = sample_pass(seed)
    leaf_pass = run_to_leaves(model, data, op)
    draws = _continuous_values(
        model, lambda: model.leaf_params.sample(op.generator, data.x.shape[0]), data)
    return _output(_complete(model, leaf_pass, draws), x)


def posterior_mean(spn, x, evidence_mask, variables=None):
    """`E[x_v | evidence]` for the unobserved columns, observed ones kept, `[B, C + L]` float32.

    One soft-EM pass to the leaves gives each leaf output its posterior probability of being
    reached (the derivative of the log-value); a column's mean is the posterior-weighted mean
    of its reached leaf outputs' means (indicator values, location-scale locations; a Cauchy
    component has no mean, its location, the median, is used).
    """
    model = as_model(spn, variables)
    data = check_data(model.plan.columns, x, evidence_mask)
    leaf_pass = run_to_leaves(model, data, posterior_pass())
    means = _continuous_values(model, lambda: model.leaf_params.loc_scale()[0][:, None], data)
    return _complete(model, leaf_pass, means, round_discrete=False).astype(np.float32)
