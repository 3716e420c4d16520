"""Chow-Liu trees (Chow and Liu, 1968): the tree-shaped Bayesian network over discrete
variables that maximises the likelihood, i.e. the maximum spanning tree of the empirical mutual
information, with conditional probability tables fitted by Laplace-smoothed counts.
"""
from typing import NamedTuple

import numpy as np

from spnlab.structure.data import check_discrete_data
from spnlab.structure.independence import mutual_information, pair_counts


def maximum_spanning_tree(weights, root=0):
    """Prim's algorithm on a dense symmetric `[V, V]` weight matrix.

    Returns `(parents, order)`: `parents[v]` is v's parent (-1 for `root`), and `order` lists the
    vertices in the order they joined the tree (root first; every parent before its children).
    Ties go to the smallest vertex index, so the result is deterministic.
    """
    num = weights.shape[0]
    parents = np.full(num, -1, dtype=np.int64)
    best = np.full(num, -np.inf)
    link = np.full(num, -1, dtype=np.int64)
    in_tree = np.zeros(num, dtype=bool)
    order = []
    vertex = root
    for _ in range(num):
        in_tree[vertex] = True
        order.append(vertex)
        parents[vertex] = link[vertex]
        better = ~in_tree & (weights[vertex] > best)
        best[better] = weights[vertex][better]
        link[better] = vertex
        candidates = np.where(in_tree, -np.inf, best)
        if in_tree.all():
            break
        vertex = int(np.argmax(candidates))
    return parents, np.array(order, dtype=np.int64)


class ChowLiuTree(NamedTuple):
    """A fitted Chow-Liu tree over `len(parents)` variables with `num_vals` values each.

    `parents[v]` (-1 for the root), `order` (parents first), `mutual_information [V, V]`, and
    `log_cpt [V, K, K]`: `log_cpt[v, u, x] = log p(x_v = x | x_parent = u)`; the root's rows
    are all `log p(x_root = x)`.
    """

    parents: np.ndarray
    order: np.ndarray
    mutual_information: np.ndarray
    log_cpt: np.ndarray

    @property
    def num_vars(self):
        return len(self.parents)

    @property
    def num_vals(self):
        return self.log_cpt.shape[-1]

    def log_likelihood(self, data):
        """`[rows]` log p(x) of int data `[rows, V]`."""
        parent_values = np.where(self.parents >= 0, data[:, np.maximum(self.parents, 0)], 0)
        return self.log_cpt[np.arange(self.num_vars), parent_values, data].sum(axis=1)


def fit_chow_liu(data, num_vals, alpha=1.0, root=0, dropout=0.0, rng=None):
    """The Chow-Liu tree of int data `[rows, V]` (values `0..num_vals-1`), Laplace `alpha`.

    `dropout`: each variable pair's mutual information is discounted (times 1e-3) with this
    probability (`rng` draws which) before the maximum spanning tree, so the tree is a strong
    but different one: the trees of an HCLT mixture (each still spans every variable; the
    discounted edges are used only where the others cannot connect).
    """
    data = check_discrete_data(data, "data", num_vals=num_vals)
    mi = mutual_information(data, num_vals, alpha)
    weights = mi
    if dropout > 0:
        rng = rng if rng is not None else np.random.default_rng(0)
        dropped = np.triu(rng.random(mi.shape) < dropout, 1)
        weights = np.where(dropped | dropped.T, mi * 1e-3, mi)
    parents, order = maximum_spanning_tree(weights, root)
    counts = pair_counts(data, num_vals)                           # [V, K, V, K]
    num_vars = data.shape[1]
    log_cpt = np.empty((num_vars, num_vals, num_vals))
    for v in range(num_vars):
        if parents[v] < 0:
            marginal = np.diagonal(counts[v, :, v, :]) + alpha
            log_cpt[v] = np.log(marginal / marginal.sum())[None, :]
        else:
            joint = counts[parents[v], :, v, :] + alpha            # [K parent, K child]
            log_cpt[v] = np.log(joint / joint.sum(axis=1, keepdims=True))
    return ChowLiuTree(parents, order, mi, log_cpt)
