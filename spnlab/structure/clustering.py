"""Instance splits of LearnSPN: cluster the rows of a slice.

- "kmeans": scikit-learn's k-means on the slice's values (seeded, `n_init` restarts).
- "em": a mixture of `k` fully factorised categoricals fitted by EM (the model the sum node and
  its factorised children will be; Laplace-smoothed), rows assigned to their most probable
  component.

Both return `labels [rows]` in `0..c-1` with empty clusters removed and clusters ordered by
their first row, so equal data gives equal labels.
"""
import warnings

import numpy as np
from scipy.special import logsumexp

from spnlab.structure.independence import one_hot


def _relabel(labels):
    """Labels renumbered by first appearance (drops empty clusters)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse]


def kmeans_labels(values, k, seed, n_init=3):
    from sklearn.cluster import KMeans
    distinct = np.unique(values, axis=0).shape[0]
    if distinct < 2:
        return np.zeros(len(values), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # fewer distinct points than k
        model = KMeans(n_clusters=min(k, distinct), n_init=n_init, random_state=seed)
        labels = model.fit_predict(values.astype(np.float64))
    return _relabel(labels)


def em_labels(values, k, seed, num_vals, iterations=30, alpha=0.1):
    """Hard assignments of a k-component factorised categorical mixture fitted by EM."""
    rows, num_vars = values.shape
    rng = np.random.default_rng(seed)
    hot = one_hot(values, num_vals).reshape(rows, num_vars, num_vals)
    responsibilities = rng.dirichlet(np.ones(k), size=rows)        # [rows, k]
    for _ in range(iterations):
        weights = responsibilities.sum(axis=0) + 1e-12
        counts = np.einsum("rk,rvx->kvx", responsibilities, hot) + alpha
        log_theta = np.log(counts / counts.sum(axis=2, keepdims=True))     # [k, V, K]
        log_joint = np.einsum("rvx,kvx->rk", hot, log_theta) + np.log(weights / weights.sum())
        responsibilities = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
    return _relabel(np.argmax(log_joint, axis=1))


CLUSTERINGS = ("kmeans", "em")


def cluster_rows(values, method, k, seed, num_vals):
    """Labels of the rows of `values [rows, V]` (int data) by `method` in `CLUSTERINGS`."""
    if method == "kmeans":
        return kmeans_labels(values, k, seed)
    return em_labels(values, k, seed, num_vals)
