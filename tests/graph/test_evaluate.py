"""Evaluation and queries of node graphs in TensorFlow: hand-computed values on the classic
examples, brute-force enumeration on random valid graphs, and bad input."""
import math

import numpy as np
import pytest

from spnlab.graph import (IndicatorLeaf, ParallelSums, Product, Sum, Weights, log_value,
                          marginal, mpe, naive_bayes_mixture, node_log_values, normal_mixture,
                          poon_domingos_example, random_spn, sample, to_dot, value,
                          variable_marginals)
from tests.graph.reference import all_states, log_values, logsumexp

# -- the Poon-Domingos example by hand ---------------------------------------------------------
# S = 0.7 S11 S21 + 0.3 S12 S22; S11 = .6/.4, S12 = .9/.1 over X1; S21 = .3/.7, S22 = .2/.8 over X2
P1 = {(a, b): [0.6, 0.4][a] * [0.3, 0.7][b] for a in (0, 1) for b in (0, 1)}
P2 = {(a, b): [0.9, 0.1][a] * [0.2, 0.8][b] for a in (0, 1) for b in (0, 1)}


def test_poon_domingos_values_by_hand():
    root = poon_domingos_example().root
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_allclose(value(root, x), [0.18, 0.51, 0.09, 0.22], rtol=1e-6)
    np.testing.assert_allclose(log_value(root, x), np.log([0.18, 0.51, 0.09, 0.22]), rtol=1e-6)


def test_poon_domingos_marginals_by_hand():
    root = poon_domingos_example().root
    x = np.array([[0, np.nan], [np.nan, 1], [np.nan, np.nan]])
    mask = ~np.isnan(x)
    np.testing.assert_allclose(np.exp(marginal(root, x, mask)), [0.69, 0.73, 1.0], rtol=1e-6)
    probs = variable_marginals(root)
    by_name = {v.name: p for v, p in probs.items()}
    np.testing.assert_allclose(by_name["X1"], [[0.69, 0.31]], rtol=1e-6)
    np.testing.assert_allclose(by_name["X2"], [[0.27, 0.73]], rtol=1e-6)


def test_poon_domingos_mpe_by_hand_with_latent_variable():
    ex = poon_domingos_example(latent=True)
    # Max-product: P1 <= 0.6 * 0.7 = 0.42 (X1=0, X2=1), P2 <= 0.9 * 0.8 = 0.72 (X1=0, X2=1);
    # root max(0.7 * 0.42, 0.3 * 0.72) = 0.294 picks P1, so Z = 0.
    result = mpe(ex.root)
    np.testing.assert_array_equal(result.x, [[0, 1, 0]])
    np.testing.assert_allclose(np.exp(result.log_value), [0.294], rtol=1e-6)
    # Evidence X2 = 0: P1 = 0.6 * 0.3 = 0.18, P2 = 0.9 * 0.2 = 0.18 -> 0.7 * 0.18 wins.
    # Evidence Z = 1 (the latent column): only P2: X1 = 0, X2 = 1, 0.3 * 0.72 = 0.216.
    x = np.array([[0, 0, 0], [0, 0, 1]])
    mask = np.array([[False, True, False], [False, False, True]])
    result = mpe(ex.root, x, mask)
    np.testing.assert_array_equal(result.x, [[0, 0, 0], [0, 1, 1]])
    np.testing.assert_allclose(np.exp(result.log_value), [0.126, 0.216], rtol=1e-6)


def test_latent_indicators_as_evidence_or_summed_out():
    ex = poon_domingos_example(latent=True)
    x = np.array([[1, 1, 0], [1, 1, 1], [1, 1, 0]])
    mask = np.array([[True, True, True], [True, True, True], [True, True, False]])
    np.testing.assert_allclose(value(ex.root, x, mask),
                               [0.7 * P1[1, 1], 0.3 * P2[1, 1], 0.22], rtol=1e-6)
    np.testing.assert_allclose(value(ex.root, x[:, :2]), [0.22] * 3, rtol=1e-6)
    z = {v.name: p for v, p in variable_marginals(ex.root, x[:1, :2]).items()}["Z_S"]
    np.testing.assert_allclose(z, [[0.196 / 0.22, 0.024 / 0.22]], rtol=1e-5)


def test_normal_mixture_density_by_hand():
    ex = normal_mixture(2, 3, seed=4)
    leaf = ex.root.child_outputs[0][0].child_outputs[0][0]
    w = ex.root.weight_values[0]
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    expected = np.zeros(2)
    for k in range(3):
        density = np.ones(2)
        for v in range(2):
            z = (x[:, v] - leaf.loc[v, k]) / leaf.scale[v, k]
            density *= np.exp(-0.5 * z ** 2) / (leaf.scale[v, k] * math.sqrt(2 * math.pi))
        expected += w[k] * density
    np.testing.assert_allclose(value(ex.root, x), expected, rtol=1e-5)


def test_node_log_values_give_every_node_output():
    ex = poon_domingos_example()
    values = node_log_values(ex.root, [[0, 1]])
    by_name = {n.name: v for n, v in values.items()}
    np.testing.assert_allclose(np.exp(by_name["S11"]), [[0.6]], rtol=1e-6)
    np.testing.assert_allclose(np.exp(by_name["P2"]), [[0.9 * 0.8]], rtol=1e-6)
    np.testing.assert_allclose(by_name["X"], [[0, -np.inf, -np.inf, 0]])


def test_zero_probability_is_minus_inf_never_nan():
    leaf = IndicatorLeaf(2, 2, variables=["A", "B"])
    root = Sum(Product((leaf, 0), (leaf, 2)), Product((leaf, 1), (leaf, 3)), weights=[1.0, 0.0])
    x = np.array([[1, 1], [0, 0], [1, 0]])
    assert np.array_equal(log_value(root, x), [-np.inf, 0.0, -np.inf])
    probs = variable_marginals(root, [[1, 0]], np.array([[True, False]]))  # p(A = 1) = 0
    for p in probs.values():
        assert np.all(np.isfinite(p)) and np.all(p == 0)
    assert mpe(root).x.tolist() == [[0, 0]]


def test_deep_chain_evaluates_without_recursion():
    leaf = IndicatorLeaf(1500, 2)
    node = Sum((leaf, 0), (leaf, 1), weights=[0.25, 0.75])
    for v in range(1, 1500):
        node = Product(node, Sum((leaf, 2 * v), (leaf, 2 * v + 1), weights=[0.25, 0.75]))
    ones = np.ones((2, 1500), np.int64)
    np.testing.assert_allclose(log_value(node, ones), [1500 * math.log(0.75)] * 2, rtol=1e-4)


def test_shared_weights_and_parallel_sums_follow_their_rows():
    leaf = IndicatorLeaf(2, 2)
    shared = Weights([[0.2, 0.8], [0.6, 0.4]])
    a = Sum((leaf, [0, 1]), weights=(shared, 1))
    b = Sum((leaf, [2, 3]), weights=(shared, 0))
    root = Product(a, b)
    np.testing.assert_allclose(value(root, [[0, 1]]), [0.6 * 0.8], rtol=1e-6)


# -- random valid graphs against brute force ---------------------------------------------------
RANDOM = [dict(num_vars=4, seed=0), dict(num_vars=5, seed=1),
          dict(num_vars=3, seed=2, num_vals=3), dict(num_vars=4, seed=3, latent_root=True)]


@pytest.fixture(params=RANDOM, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
def spn(request):
    ex = random_spn(**request.param)
    latent = ex.root.latent_indicators
    extra = latent.node.variables if latent is not None else ()
    return ex.root, ex.variables, tuple(ex.variables) + tuple(extra)


def test_random_graphs_are_normalised_and_match_the_reference(spn):
    root, _, columns = spn
    states = all_states(columns)
    got = log_value(root, states)
    assert abs(logsumexp(got)) < 1e-5
    np.testing.assert_allclose(got, log_values(root, states, columns), atol=1e-5)


def test_random_marginals_equal_brute_force_sums(spn):
    root, data_vars, columns = spn
    states = all_states(columns)
    joint = log_values(root, states, columns)
    rng = np.random.default_rng(7)
    x = states[rng.integers(len(states), size=6)].astype(np.float64)
    mask = rng.random(x.shape) < 0.5
    x[~mask] = np.nan
    expected = [logsumexp(joint[np.all(states[:, m] == row[m], axis=1)])
                for row, m in zip(x, mask)]
    np.testing.assert_allclose(marginal(root, x, mask), expected, atol=1e-5)
    # per-variable distributions: derivative and evaluation agree with enumeration
    by_derivative = variable_marginals(root, x, mask)
    by_evaluation = variable_marginals(root, x, mask, method="evaluate")
    for c, var in enumerate(columns):
        for b, (row, m) in enumerate(zip(x, mask)):
            consistent = np.all(states[:, m] == row[m], axis=1)
            p = [math.exp(logsumexp(joint[consistent & (states[:, c] == k)]) - expected[b])
                 for k in range(var.num_vals)]
            np.testing.assert_allclose(by_derivative[var][b], p, atol=1e-5)
            np.testing.assert_allclose(by_evaluation[var][b], p, atol=1e-5)


def test_random_mpe_equals_brute_force_max_product(spn):
    root, _, columns = spn
    states = all_states(columns)
    max_product = log_values(root, states, columns, mode="max")
    result = mpe(root, seed=0)
    assert abs(result.log_value[0] - max_product.max()) < 1e-5
    assert abs(log_values(root, result.x, columns, mode="max")[0] - max_product.max()) < 1e-5
    # with evidence on the first variable: the best completion of each value
    x = np.zeros((2, len(columns)), np.int64)
    x[:, 0] = [0, 1]
    mask = np.zeros(x.shape, bool)
    mask[:, 0] = True
    result = mpe(root, x, mask, seed=0)
    assert np.array_equal(result.x[:, 0], [0, 1])
    for b in range(2):
        best = max_product[states[:, 0] == b].max()
        assert abs(result.log_value[b] - best) < 1e-5
        assert abs(log_values(root, result.x[b:b + 1], columns, mode="max")[0] - best) < 1e-5


def test_sample_frequencies_match_probabilities():
    ex = random_spn(3, seed=5, latent_root=True)
    columns = tuple(ex.variables) + tuple(ex.root.latent_indicators.node.variables)
    states = all_states(columns)
    probs = np.exp(log_values(ex.root, states, columns))
    n = 20000
    draws = sample(ex.root, n, seed=3)
    assert draws.shape == (n, len(columns))
    codes = {tuple(s): i for i, s in enumerate(states.tolist())}
    freq = np.bincount([codes[tuple(d)] for d in draws.astype(np.int64).tolist()],
                       minlength=len(states)) / n
    # 4 standard deviations of a frequency at p = 0.5 with n = 20000 is 0.014
    assert np.abs(freq - probs).max() < 0.014
    assert np.array_equal(sample(ex.root, 50, seed=3), sample(ex.root, 50, seed=3))
    # conditioned on X1 = 1: the conditional distribution of the others
    x = np.zeros((n, len(ex.variables)), np.int64)
    x[:, 0] = 1
    mask = np.zeros(x.shape, bool)
    mask[:, 0] = True
    draws = sample(ex.root, x=x, evidence_mask=mask, seed=4)
    assert np.all(draws[:, 0] == 1)
    freq = np.bincount([codes[tuple(d)] for d in draws.tolist()], minlength=len(states)) / n
    conditional = np.where(states[:, 0] == 1, probs, 0) / probs[states[:, 0] == 1].sum()
    assert np.abs(freq - conditional).max() < 0.014


def test_normal_leaves_values_mpe_and_sample_means():
    ex = random_spn(3, seed=4, leaf="normal", num_components=2)
    columns = ex.variables
    x = np.random.default_rng(0).normal(size=(5, 3))
    mask = np.random.default_rng(1).random(x.shape) < 0.6
    np.testing.assert_allclose(log_value(ex.root, x), log_values(ex.root, x, columns), atol=1e-4)
    np.testing.assert_allclose(marginal(ex.root, x, mask),
                               log_values(ex.root, x, columns, mask), atol=1e-4)
    result = mpe(ex.root, x, mask)
    best = log_values(ex.root, x, columns, mask, mode="max")
    np.testing.assert_allclose(result.log_value, best, atol=1e-4)
    np.testing.assert_allclose(log_values(ex.root, result.x, columns, mode="max"), best,
                               atol=1e-4)
    mix = normal_mixture(1, 2, seed=1)
    leaf = mix.root.child_outputs[0][0].child_outputs[0][0]
    mean = float(mix.root.weight_values[0] @ leaf.loc[0])
    draws = sample(mix.root, 20000, seed=0)
    assert abs(draws.mean() - mean) < 4 * draws.std() / math.sqrt(20000)


# -- bad input ---------------------------------------------------------------------------------
def test_laplace_cauchy_and_normal_leaves_mix_in_one_graph():
    """A mixture of the three families over X and Y (X * Y per component): densities equal
    scipy's, MPE picks the best component's locations, samples follow the mixture (KS test)."""
    from scipy import stats

    from spnlab.graph import CauchyLeaf, LaplaceLeaf, NormalLeaf, Variable

    xv, yv = Variable("X"), Variable("Y")
    leaves = [cls(num_components=1, loc=[[loc], [-loc]], scale=[[scale], [1.0]],
                  variables=[xv, yv], name=cls.__name__)
              for cls, loc, scale in [(NormalLeaf, 0.0, 1.0), (LaplaceLeaf, 3.0, 0.5),
                                      (CauchyLeaf, -4.0, 2.0)]]
    w = np.array([0.2, 0.5, 0.3])
    root = Sum(*[Product((leaf, 0), (leaf, 1)) for leaf in leaves], weights=w)
    dists = [(stats.norm(0, 1), stats.norm(0, 1)), (stats.laplace(3, 0.5), stats.laplace(-3, 1)),
             (stats.cauchy(-4, 2), stats.cauchy(4, 1))]
    x = np.random.default_rng(0).normal(scale=3, size=(50, 2))
    want = np.log(sum(wk * dx.pdf(x[:, 0]) * dy.pdf(x[:, 1]) for wk, (dx, dy) in zip(w, dists)))
    np.testing.assert_allclose(log_value(root, x, variables=[xv, yv]), want, rtol=1e-5)
    # MPE without evidence: the component with the largest w * f(mode): Laplace (0.5 / (2*.5*2)).
    modes = [wk * dx.pdf(dx.median()) * dy.pdf(dy.median()) for wk, (dx, dy) in zip(w, dists)]
    assert int(np.argmax(modes)) == 1
    np.testing.assert_allclose(mpe(root, variables=[xv, yv]).x, [[3.0, -3.0]], rtol=1e-6)
    draws = sample(root, 4000, variables=[xv, yv], seed=1)[:, 0]
    cdf = lambda t: sum(wk * dx.cdf(t) for wk, (dx, _) in zip(w, dists))  # noqa: E731
    assert stats.kstest(draws, cdf).pvalue > 1e-3
    assert "L(X)" in to_dot(root) and "C(Y)" in to_dot(root)


def test_bad_input_names_the_argument_and_value():
    ex = naive_bayes_mixture(3, 2, num_vals=3)
    root = ex.root
    with pytest.raises(ValueError, match=r"`x` of shape \[batch, 3\].*x.shape=\(2, 4\)"):
        log_value(root, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"finite `x`.*x\[1, 2\]=nan"):
        log_value(root, [[0, 1, 2], [0, 1, np.nan]])
    with pytest.raises(ValueError, match=r"`x\[:, 1\]` \(variable X2\).*\[0, 3\).*x\[0, 1\]=3"):
        log_value(root, [[0, 3, 0]])
    with pytest.raises(ValueError, match=r"x\[0, 0\]=0.5"):
        log_value(root, [[0.5, 1, 1]])
    with pytest.raises(ValueError, match=r"evidence_mask.shape=\(1, 2\)"):
        marginal(root, [[0, 1, 2]], np.ones((1, 2), bool))
    with pytest.raises(ValueError, match="Missing: X3"):
        log_value(root, [[0, 1]], variables=ex.variables[:2])
    with pytest.raises(ValueError, match=r"variables\[0\]='nope'"):
        log_value(root, [[0, 1, 1]], variables=["nope", "X2", "X3"])
    with pytest.raises(ValueError, match="method='magic'"):
        variable_marginals(root, method="magic")
    with pytest.raises(ValueError, match="num_samples=0"):
        sample(root, 0)


def test_columns_follow_the_given_variable_order():
    ex = poon_domingos_example()
    x1, x2 = ex.variables
    np.testing.assert_allclose(value(ex.root, [[1, 0]], variables=[x2, x1]),
                               [0.7 * P1[0, 1] + 0.3 * P2[0, 1]], rtol=1e-6)
    np.testing.assert_allclose(value(ex.root, [[1, 0]], variables=["X2", "X1"]), [0.51],
                               rtol=1e-6)


def test_parallel_sums_with_latent_indicators_evaluate_per_sum():
    leaf = IndicatorLeaf(2, 2, variables=["A", "B"])
    mix = ParallelSums((leaf, [0, 1]), num_sums=2, weights=[[0.3, 0.7], [0.6, 0.4]])
    latent = mix.generate_latent_indicators()
    root = Product((mix, 0), Sum((leaf, [2, 3]), weights=[0.2, 0.8]))
    z0, z1 = latent.variables
    # columns A, B, then the latent Z[0], Z[1]; only Z[0] is in the root's scope
    x = np.array([[0, 1, 0, 0], [0, 1, 1, 0], [1, 1, 1, 1]])
    np.testing.assert_allclose(value(root, x), [0.3 * 0.8, 0.0, 0.7 * 0.8], rtol=1e-6)
    result = mpe(root, np.array([[1, 0]]), np.array([[True, False]]))  # A = 1 observed
    assert result.x[0, :3].tolist() == [1, 1, 1]
    np.testing.assert_allclose(np.exp(result.log_value), [0.7 * 0.8], rtol=1e-6)
    assert [v.name for v in variable_marginals(root)] == ["A", "B", z0.name, z1.name]
