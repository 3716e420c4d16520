"""Independence tests, mutual information and Chow-Liu trees against independent references
(SciPy's contingency test, per-pair sums written out, brute force over all spanning trees)."""
import itertools

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from spnlab.structure import (fit_chow_liu, g_test, maximum_spanning_tree, mutual_information,
                              pair_counts)


def _random_data(rows, num_vars, num_vals, seed):
    return np.random.default_rng(seed).integers(num_vals, size=(rows, num_vars))


def test_pair_counts_are_the_contingency_tables():
    data = _random_data(50, 4, 3, 0)
    counts = pair_counts(data, 3)
    for i, j in itertools.product(range(4), repeat=2):
        table = np.zeros((3, 3))
        for a, b in zip(data[:, i], data[:, j]):
            table[a, b] += 1
        np.testing.assert_array_equal(counts[i, :, j, :], table)


def test_g_test_matches_scipy_log_likelihood_ratio_test():
    rng = np.random.default_rng(1)
    x0 = rng.integers(3, size=300)
    x1 = (x0 + rng.integers(2, size=300)) % 3            # depends on x0
    x2 = rng.integers(3, size=300)
    data = np.column_stack([x0, x1, x2])
    g, p = g_test(data, 3)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        table = pair_counts(data, 3)[i, :, j, :]
        stat, p_ref, dof, _ = chi2_contingency(table, correction=False, lambda_="log-likelihood")
        assert dof == 4
        np.testing.assert_allclose(g[i, j], stat, rtol=1e-10)
        np.testing.assert_allclose(p[i, j], p_ref, rtol=1e-8, atol=1e-300)
    assert p[0, 1] < 1e-10 and p[0, 2] > 1e-3 and np.allclose(g, g.T)


def test_g_test_constant_column_and_single_row_are_independent():
    data = _random_data(40, 3, 2, 2)
    data[:, 1] = 1
    g, p = g_test(data, 2)
    assert g[1, 0] == 0 and p[1, 0] == 1.0 and p[1, 2] == 1.0
    g, p = g_test(data[:1], 2)
    np.testing.assert_array_equal(p, np.ones((3, 3)))


def test_mutual_information_of_smoothed_joints_written_out():
    data = _random_data(60, 3, 2, 3)
    data[:, 2] = data[:, 0] ^ (np.arange(60) % 7 == 0)
    alpha = 0.5
    mi = mutual_information(data, 2, alpha)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        joint = np.full((2, 2), alpha)
        for a, b in zip(data[:, i], data[:, j]):
            joint[a, b] += 1
        joint /= joint.sum()
        pa, pb = joint.sum(1), joint.sum(0)
        ref = sum(joint[a, b] * np.log(joint[a, b] / (pa[a] * pb[b]))
                  for a in range(2) for b in range(2))
        np.testing.assert_allclose(mi[i, j], ref, rtol=1e-12)
    assert mi[0, 2] > 10 * mi[0, 1]


def _all_spanning_trees(n):
    """Every labelled tree on n vertices from its Prufer sequence, as an edge set."""
    for seq in itertools.product(range(n), repeat=n - 2):
        degree = [1] * n
        for v in seq:
            degree[v] += 1
        edges = []
        for v in seq:
            leaf = min(u for u in range(n) if degree[u] == 1)
            edges.append(frozenset((leaf, v)))
            degree[leaf] -= 1
            degree[v] -= 1
        u, w = [x for x in range(n) if degree[x] == 1]
        edges.append(frozenset((u, w)))
        yield frozenset(edges)


def test_maximum_spanning_tree_beats_every_spanning_tree():
    rng = np.random.default_rng(4)
    for _ in range(5):
        w = rng.random((5, 5))
        w = w + w.T
        parents, order = maximum_spanning_tree(w)
        edges = frozenset(frozenset((v, p)) for v, p in enumerate(parents) if p >= 0)
        best = max(_all_spanning_trees(5), key=lambda t: sum(w[tuple(e)] for e in t))
        assert edges == best
        seen = {int(order[0])}
        for v in order[1:]:                      # every parent joins before its child
            assert parents[v] in seen
            seen.add(int(v))


def test_chow_liu_tree_is_the_maximum_mutual_information_tree_and_normalised():
    rng = np.random.default_rng(5)
    x0 = rng.integers(2, size=400)
    x1 = x0 ^ (rng.random(400) < 0.1)
    x2 = x1 ^ (rng.random(400) < 0.2)
    x3 = rng.integers(2, size=400)
    data = np.column_stack([x0, x1, x2, x3]).astype(int)
    tree = fit_chow_liu(data, 2, alpha=1.0)
    mi = mutual_information(data, 2, 1.0)
    best = max(_all_spanning_trees(4), key=lambda t: sum(mi[tuple(e)] for e in t))
    assert frozenset(frozenset((v, p)) for v, p in enumerate(tree.parents) if p >= 0) == best
    states = np.array(list(itertools.product(range(2), repeat=4)))
    np.testing.assert_allclose(np.exp(tree.log_likelihood(states)).sum(), 1.0, rtol=1e-12)
    # the tables are the smoothed conditional frequencies
    v = 2
    parent = tree.parents[v]
    ones = data[data[:, parent] == 1, v]
    np.testing.assert_allclose(np.exp(tree.log_cpt[v, 1, 1]), (ones.sum() + 1) / (len(ones) + 2))


def test_g_test_splits_independent_and_keeps_dependent_variables():
    rng = np.random.default_rng(6)
    independent = rng.integers(2, size=(2000, 4))
    _, p = g_test(independent, 2)
    assert (p[np.triu_indices(4, 1)] > 1e-3).all()
    base = rng.integers(2, size=2000)
    dependent = np.column_stack([base ^ (rng.random(2000) < 0.1) for _ in range(4)])
    _, p = g_test(dependent.astype(int), 2)
    assert (p[np.triu_indices(4, 1)] < 1e-10).all()


def test_rdc_sees_nonlinear_dependence_and_not_independence():
    from spnlab.structure import rdc
    rng = np.random.default_rng(7)
    x = rng.normal(size=1000)
    data = np.column_stack([x, x ** 2 + 0.05 * rng.normal(size=1000), rng.normal(size=1000)])
    r = rdc(data, seed=0)
    np.testing.assert_allclose(r, r.T)
    np.testing.assert_allclose(np.diag(r), 1.0)
    assert r[0, 1] > 0.9 and r[0, 2] < 0.25 and r[1, 2] < 0.25
    # the linear correlation of x and x^2 is ~0: RDC is not a correlation coefficient
    assert abs(np.corrcoef(data[:, 0], data[:, 1])[0, 1]) < 0.1


def test_statistics_refuse_values_outside_num_vals_and_non_finite_data():
    from spnlab.structure import rdc
    with pytest.raises(ValueError, match=r"0..1.*data\[0, 0\]=2"):
        pair_counts(np.array([[2, 0], [1, 0]]), 2)
    with pytest.raises(ValueError, match="whole numbers"):
        g_test(np.array([[0.5, 1.0]]), 2)
    with pytest.raises(ValueError, match=r"finite.*data\[1, 0\]=nan"):
        rdc(np.array([[0.5, 1.0], [np.nan, 2.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="data"):
        fit_chow_liu(np.array([[0, 3]]), 2)
