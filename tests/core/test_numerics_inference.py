"""Inference on small SPNs against brute-force enumeration and an independent NumPy evaluator."""
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.core import layers as L
from tests.core.reference import all_states, evaluate, logsumexp, small_ratspn


@pytest.fixture(scope="module", params=[(4, 0, 2), (5, 1, 2), (6, 2, 1)],
                ids=["v4-d2", "v5-d2", "v6-d1"])
def model(request):
    num_vars, seed, depth = request.param
    return small_ratspn(num_vars, seed, depth=depth, reps=2, inputs=2, sums=3)


def categorical_region_spn(seed=3):
    """A region-graph SPN over 4 ternary variables with a CategoricalLeaf."""
    rg = spnk.RegionNode([spnk.RegionNode([spnk.RegionVariable(0), spnk.RegionVariable(2)]),
                          spnk.RegionNode([spnk.RegionVariable(1), spnk.RegionVariable(3)])])
    leaf = L.CategoricalLeaf(3, num_categories=3, use_accumulators=True,
                             accumulator_initializer=spnk.initializers.Dirichlet(axis=-1, alpha=1.0,
                                                                                  seed=seed))
    return spnk.region_graph_to_dense_spn(
        rg, leaf, iter([3, 2]), return_weighted_child_logits=False,
        accumulator_initializer=spnk.initializers.Dirichlet(alpha=1.0, seed=seed),
        sum_op=spnk.SumOpEMBackprop())


def test_probabilities_of_all_states_sum_to_one(model):
    states = all_states(model.inputs[0].shape[1])
    ll = spnk.log_likelihood(model, states)
    assert abs(logsumexp(ll)) < 1e-5
    np.testing.assert_allclose(ll, evaluate(model, states), atol=1e-5)


def test_categorical_region_graph_spn_is_normalised():
    model = categorical_region_spn()
    states = all_states(4, 3)
    ll = spnk.log_likelihood(model, states)
    assert abs(logsumexp(ll)) < 1e-5
    np.testing.assert_allclose(ll, evaluate(model, states), atol=1e-5)


def test_marginals_equal_brute_force_sums(model):
    n = model.inputs[0].shape[1]
    states = all_states(n)
    joint = spnk.log_likelihood(model, states)
    rng = np.random.default_rng(0)
    for _ in range(4):
        mask = rng.random(n) < 0.5
        x = states[rng.integers(len(states))]
        consistent = np.all(states[:, mask] == x[mask], axis=1)
        expected = logsumexp(joint[consistent])
        got = spnk.marginal(model, x[None], mask[None])[0]
        assert abs(got - expected) < 1e-5


def test_unobserved_entries_may_be_nan():
    model = small_ratspn(4, 0)
    x = np.array([[1.0, np.nan, 0.0, np.nan]])
    mask = np.array([[True, False, True, False]])
    states = all_states(4)
    joint = spnk.log_likelihood(model, states)
    expected = logsumexp(joint[(states[:, 0] == 1) & (states[:, 2] == 0)])
    assert abs(spnk.marginal(model, x, mask)[0] - expected) < 1e-5


def test_conditionals_equal_ratios_of_brute_force_sums(model):
    n = model.inputs[0].shape[1]
    states = all_states(n)
    joint = spnk.log_likelihood(model, states)
    x = states[5][None]
    evidence = np.zeros((1, n), bool)
    evidence[0, 0] = True
    query = np.zeros((1, n), bool)
    query[0, 1:3] = True
    num = logsumexp(joint[np.all(states[:, :3] == x[0, :3], axis=1)])
    den = logsumexp(joint[states[:, 0] == x[0, 0]])
    assert abs(spnk.conditional(model, x, query, evidence)[0] - (num - den)) < 1e-5


def test_variable_marginals_equal_brute_force_posteriors(model):
    n = model.inputs[0].shape[1]
    states = all_states(n)
    p = np.exp(spnk.log_likelihood(model, states).astype(np.float64))
    x = states[3][None]
    mask = np.zeros((1, n), bool)
    mask[0, ::2] = True
    consistent = np.all(states[:, mask[0]] == x[0, mask[0]], axis=1)
    got = spnk.variable_marginals(model, x, mask)[0]               # [V, 2]
    for v in range(n):
        expected = np.array([p[consistent & (states[:, v] == k)].sum() for k in (0, 1)])
        np.testing.assert_allclose(got[v], expected / expected.sum(), atol=1e-5)


def test_categorical_variable_marginals():
    model = categorical_region_spn()
    states = all_states(4, 3)
    p = np.exp(spnk.log_likelihood(model, states).astype(np.float64))
    x = np.array([[2, 0, 1, 1]], np.int32)
    mask = np.array([[True, False, False, True]])
    consistent = (states[:, 0] == 2) & (states[:, 3] == 1)
    got = spnk.variable_marginals(model, x, mask)[0]
    for v in (1, 2):
        expected = np.array([p[consistent & (states[:, v] == c)].sum() for c in range(3)])
        np.testing.assert_allclose(got[v], expected / expected.sum(), atol=1e-5)
    np.testing.assert_allclose(got[0], [0, 0, 1])


def test_posterior_leaf_marginals_sum_to_one_per_variable(model):
    n = model.inputs[0].shape[1]
    x = all_states(n)[:3]
    mask = np.ones_like(x, bool)
    mask[:, 1] = False
    g = spnk.posterior_leaf_marginals(model, x, mask)               # [B, V, D, K]
    np.testing.assert_allclose(g.sum(axis=(2, 3)), np.ones((3, n)), atol=1e-5)


@pytest.mark.parametrize("spn", ["ratspn", "categorical"])
def test_max_product_mpe_is_the_best_induced_tree_completion(spn):
    if spn == "ratspn":
        model, n, values = small_ratspn(5, 4, depth=2, reps=2, inputs=3, sums=3), 5, 2
    else:
        model, n, values = categorical_region_spn(seed=5), 4, 3
    states = all_states(n, values)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = states[rng.integers(len(states))][None]
        mask = (rng.random((1, n)) < 0.4)
        completed = spnk.mpe(model, x, mask, seed=0)
        np.testing.assert_array_equal(completed[mask], x[mask])           # evidence kept
        consistent = states[np.all(states[:, mask[0]] == x[0, mask[0]], axis=1)]
        best = evaluate(model, consistent, mode="max").max()             # brute force
        assert abs(evaluate(model, completed, mode="max")[0] - best) < 1e-9
        # The upward max pass with the unobserved maximised reaches the same value.
        assert abs(evaluate(model, x, evidence=mask, mode="max")[0] - best) < 1e-9


def test_hard_em_completion_keeps_evidence_and_is_a_reached_state():
    model = small_ratspn(6, 7, depth=2, reps=2, inputs=2, sums=2)
    x = all_states(6)[[9, 40]]
    mask = np.array([[True, False, True, False, True, False]] * 2)
    completed = spnk.mpe(model, x, mask, method="hard_em", seed=0)
    np.testing.assert_array_equal(completed[mask], x[mask])
    assert np.all(np.isfinite(spnk.log_likelihood(model, completed)))


def test_sample_frequencies_match_the_distribution():
    model = small_ratspn(3, 11, depth=1, reps=2, inputs=2, sums=2)
    states = all_states(3)
    p = np.exp(spnk.log_likelihood(model, states).astype(np.float64))
    draws = spnk.sample(model, 6000, seed=123)
    codes = draws @ np.array([4, 2, 1])
    freq = np.bincount(codes, minlength=8) / len(codes)
    # 4 standard errors of a frequency estimated from 6000 draws
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / 6000))


def test_conditional_sample_frequencies_match_brute_force():
    model = small_ratspn(4, 12, depth=2, reps=2, inputs=2, sums=2)
    states = all_states(4)
    p = np.exp(spnk.log_likelihood(model, states).astype(np.float64))
    x = np.tile(np.array([[1, 0, 0, 0]], np.int32), (6000, 1))
    mask = np.tile(np.array([[True, False, True, False]]), (6000, 1))
    draws = spnk.sample(model, x=x, evidence_mask=mask, seed=5)
    np.testing.assert_array_equal(draws[:, [0, 2]], x[:, [0, 2]])
    consistent = (states[:, 0] == 1) & (states[:, 2] == 0)
    for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        expected = p[consistent & (states[:, 1] == a) & (states[:, 3] == b)].sum() / p[consistent].sum()
        got = np.mean((draws[:, 1] == a) & (draws[:, 3] == b))
        assert abs(got - expected) < 4 * np.sqrt(0.25 / 6000)


def test_samples_are_reproducible_with_a_seed():
    model = small_ratspn(4, 0)
    np.testing.assert_array_equal(spnk.sample(model, 50, seed=9), spnk.sample(model, 50, seed=9))


def test_posterior_mean_and_model_completion_equal_brute_force_expectations():
    model = small_ratspn(5, 21, sum_op=spnk.SumOpEMBackprop(), depth=2, reps=2, inputs=2, sums=2)
    states = all_states(5)
    p = np.exp(spnk.log_likelihood(model, states).astype(np.float64))
    x = np.array([[1, 0, 0, 1, 0]], np.float32)
    mask = np.array([[True, False, True, False, False]])
    consistent = (states[:, 0] == 1) & (states[:, 2] == 0)
    expected = (p[consistent, None] * states[consistent]).sum(0) / p[consistent].sum()
    for got in (spnk.posterior_mean(model, x, mask), model.complete(x, mask)):
        np.testing.assert_allclose(got[0, ~mask[0]], expected[~mask[0]], atol=1e-5)
        np.testing.assert_array_equal(got[mask], x[mask])


def test_zero_evidence_inference_with_the_sample_op_draws_from_the_model():
    model = small_ratspn(3, 22, sum_op=spnk.SumOpSampleBackprop(seed=4), depth=1, reps=2,
                         inputs=2, sums=2)
    states = all_states(3)
    p = np.exp(spnk.log_likelihood(model, states).astype(np.float64))
    draws = model.zero_evidence_inference(6000)
    freq = np.bincount(draws @ np.array([4, 2, 1]), minlength=8) / len(draws)
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / 6000))


def test_compiled_queries_give_the_eager_results_and_follow_op_switches():
    """Inside `compiled_queries` every query (seeded ones included) returns exactly what the
    eager pass returns, also after the layers' sum ops change (the cache keys on them)."""
    from spnlab.core.queries.runner import compiled_queries

    model = small_ratspn(6, 31, sum_op=spnk.SumOpEMBackprop(), depth=2, reps=2, inputs=2, sums=2)
    x = all_states(6)[::5]
    mask = np.random.default_rng(2).random(x.shape) < 0.5
    queries = {
        "mpe": lambda: spnk.mpe(model, x, mask, seed=3),
        "hard_em": lambda: spnk.mpe(model, x, mask, method="hard_em", seed=3),
        "mean": lambda: spnk.posterior_mean(model, x, mask),
        "sample": lambda: spnk.sample(model, x=x, evidence_mask=mask, seed=4),
        "marginals": lambda: spnk.variable_marginals(model, x, mask),
        "marginal": lambda: spnk.marginal(model, x, mask),
        "complete": lambda: model.complete(x, mask)}
    for _ in range(2):
        eager = {name: query() for name, query in queries.items()}
        with compiled_queries():
            for _ in range(2):                       # traced, then from the cache
                for name, query in queries.items():
                    np.testing.assert_array_equal(query(), eager[name], err_msg=name)
        model.set_sum_op(spnk.SumOpHardEMBackprop(seed=0))   # `complete` now backtracks
