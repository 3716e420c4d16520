"""An independent NumPy evaluator of node graphs (float64, explicit loops, no recursion).

It reads only the nodes' documented semantics (leaf outputs, weights, latent indicators), never
the TensorFlow evaluator's plan, so tests can compare the two; and it enumerates joint states
for brute-force checks.
"""
import itertools
import math

import numpy as np

from spnlab.graph import IndicatorLeaf, NormalLeaf, Product, topological_order


def _combine(values, mode):
    """log-sum-exp (or max) over axis 0 of `values [n, B]`; all -inf gives -inf."""
    m = values.max(axis=0)
    if mode == "max":
        return m
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(values - safe).sum(axis=0)) + safe


def log_values(root, x, columns, mask=None, mode="sum"):
    """Root log-value `[B]` for data `x [B, len(columns)]`.

    `mask[b, c] = False` sums variable `columns[c]` out (mode "sum") or maximises it (mode
    "max": leaves give their mode's value). Variables not in `columns` are unobserved.
    """
    x = np.asarray(x, np.float64)
    batch = x.shape[0]
    mask = np.ones(x.shape, bool) if mask is None else np.asarray(mask, bool)
    column = {var: c for c, var in enumerate(columns)}
    values = {}
    for node in topological_order(root):
        out = np.zeros((node.num_outputs, batch))
        if isinstance(node, IndicatorLeaf):
            for o in range(node.num_outputs):
                c = column.get(node.output_variable(o))
                if c is not None:
                    hit = x[:, c] == node.output_value(o)
                    out[o] = np.where(mask[:, c] & ~hit, -np.inf, 0.0)
        elif isinstance(node, NormalLeaf):
            for o in range(node.num_outputs):
                v, k = divmod(o, node.num_components)
                loc, scale = node.loc[v, k], node.scale[v, k]
                mode_density = -math.log(scale) - 0.5 * math.log(2 * math.pi)
                c = column.get(node.output_variable(o))
                fill = mode_density if mode == "max" else 0.0
                if c is None:
                    out[o] = fill
                    continue
                z = (x[:, c] - loc) / scale
                out[o] = np.where(mask[:, c], -0.5 * z ** 2 + mode_density, fill)
        elif isinstance(node, Product):
            for child, i in node.child_outputs:
                out[0] += values[child][i]
        else:  # a sum node
            children = np.stack([values[child][i] for child, i in node.child_outputs])
            with np.errstate(divide="ignore"):
                log_w = np.log(node.weight_values)                        # [num_sums, n]
            n = node.num_children
            for j in range(node.num_sums):
                terms = children + log_w[j][:, None]
                if node.latent_indicators is not None:
                    latent = node.latent_indicators
                    block = latent.indices[j * n:(j + 1) * n]
                    terms = terms + np.stack([values[latent.node][i] for i in block])
                out[j] = _combine(terms, mode)
        values[node] = out
    return values[root][0]


def all_states(variables):
    """Every joint state of discrete `variables`, `[prod num_vals, len(variables)]` (int)."""
    return np.asarray(list(itertools.product(*[range(v.num_vals) for v in variables])),
                      dtype=np.int64).reshape(-1, len(variables))


def logsumexp(a):
    a = np.asarray(a, np.float64)
    if a.size == 0:
        return -np.inf
    m = a.max()
    return m + np.log(np.exp(a - m).sum()) if np.isfinite(m) else m
