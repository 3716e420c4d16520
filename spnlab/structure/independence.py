"""Pairwise dependence of the variables of a data slice, all pairs at once.

Every statistic starts from the co-occurrence counts of all pairs of variables, one matrix
product of the one-hot data with itself (never a Python loop over pairs):

    counts[i, a, j, b] = #rows with x_i = a and x_j = b          [V, K, V, K]

- G-test: `G_ij = 2 sum_ab n_ab ln(n_ab n / (n_a. n_.b))`, chi-square with
  `(K_i - 1)(K_j - 1)` degrees of freedom (K_i = values seen in the slice); a column that is
  constant in the slice has 0 degrees of freedom and is independent of everything.
- Mutual information (Chow-Liu trees): `I_ij = sum_ab p_ab ln(p_ab / (p_a p_b))` of the
  Laplace-smoothed joint, in nats.
- RDC (randomised dependence coefficient, Lopez-Paz et al. 2013) for continuous data.
"""
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.stats import chi2, rankdata

from spnlab.structure.data import check_continuous_data, check_discrete_data


def one_hot(data, num_vals):
    """`[rows, V * K]` float64 one-hot of int data `[rows, V]` with values `0..K-1`."""
    rows, num_vars = data.shape
    out = np.zeros((rows, num_vars * num_vals))
    out[np.arange(rows)[:, None], np.arange(num_vars) * num_vals + data] = 1.0
    return out


def pair_counts(data, num_vals):
    """Co-occurrence counts `[V, K, V, K]` of all pairs (the diagonal blocks hold the
    univariate counts on their diagonals) of int data `[rows, V]` with values `0..K-1`."""
    data = check_discrete_data(data, "data", num_vals=num_vals)
    hot = one_hot(data, num_vals)
    num_vars = data.shape[1]
    return (hot.T @ hot).reshape(num_vars, num_vals, num_vars, num_vals)


def _marginal_counts(counts):
    """`[V, K]` univariate counts from pair counts."""
    return np.einsum("iaia->ia", counts)


def g_test(data, num_vals):
    """G statistics and p-values of independence for all pairs of columns.

    Returns `(g [V, V], p_values [V, V])`; the diagonal is 0 and 1. With a single row every
    column is constant, so every pair is independent.
    """
    counts = pair_counts(data, num_vals)
    n = len(data)
    single = _marginal_counts(counts)                              # [V, K]
    expected = single[:, :, None, None] * single[None, None, :, :] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(counts / expected), 0.0)
    g = 2.0 * terms.sum(axis=(1, 3))
    g = np.maximum(g, 0.0)                                         # rounding below zero
    seen = (single > 0).sum(axis=1)                                # values seen per column
    dof = np.outer(seen - 1, seen - 1)
    p_values = np.where(dof > 0, chi2.sf(g, np.maximum(dof, 1)), 1.0)
    np.fill_diagonal(g, 0.0)
    np.fill_diagonal(p_values, 1.0)
    return g, p_values


def mutual_information(data, num_vals, alpha=1.0):
    """`[V, V]` mutual information (nats) of the Laplace-smoothed pairwise joints: each pair's
    joint adds `alpha` to each of its K*K cells (the marginals are the joints' sums, so they
    agree)."""
    counts = pair_counts(data, num_vals) + alpha
    n = len(data) + alpha * num_vals * num_vals
    joint = counts / n                                             # [V, K, V, K]
    p_i = joint.sum(axis=3)                                        # [V, K, V]: p(x_i) per pair
    p_j = joint.sum(axis=1)                                        # [V, V, K]: p(x_j) per pair
    ratio = joint / (p_i[:, :, :, None] * p_j[:, None, :, :])
    mi = (joint * np.log(ratio)).sum(axis=(1, 3))
    mi = np.maximum(mi, 0.0)
    np.fill_diagonal(mi, 0.0)
    return mi


def rdc(data, k=10, scale=6.0, seed=0):
    """`[V, V]` randomised dependence coefficients of continuous columns: copula transform
    (the empirical CDF, in (0, 1]), `k` random sine features `sin(w u + b)` per column (`w ~ N(0, scale^2)`,
    `b ~ U(0, 2 pi)`), then the largest canonical correlation of each pair's features: the
    largest singular value of `Q_i^T Q_j` for orthonormal bases `Q` of the centred features
    (directions with negligible variance dropped, so collinear features cannot fake a
    correlation)."""
    data = check_continuous_data(data, "data")
    rows, num_vars = data.shape
    rng = np.random.default_rng(seed)
    ranks = rankdata(data, method="max", axis=0) / rows            # the empirical CDF (ties
    #                                                                 share it, so discrete data works)
    bases = np.zeros((num_vars, rows, k))
    for v in range(num_vars):
        f = np.sin(ranks[:, v:v + 1] * rng.normal(0.0, scale, size=k)
                   + rng.uniform(0.0, 2 * np.pi, size=k))
        u, s, _ = np.linalg.svd(f - f.mean(axis=0), full_matrices=False)
        keep = s > 1e-8 * max(s[0], 1e-300)
        bases[v, :, :keep.sum()] = u[:, keep]                     # zero columns: no variance
    cross = np.einsum("vnk,wnl->vwkl", bases, bases)               # [V, V, k, k]
    result = np.minimum(1.0, np.linalg.svd(cross, compute_uv=False)[..., 0])
    np.fill_diagonal(result, 1.0)
    return result


def dependency_components(dependent):
    """Connected components of the boolean dependency graph `[V, V]`: `list[np.ndarray]` of
    column positions, ordered by their smallest position."""
    count, labels = csgraph.connected_components(sparse.csr_matrix(dependent), directed=False)
    groups = [np.flatnonzero(labels == c) for c in range(count)]
    return sorted(groups, key=lambda g: g[0])
