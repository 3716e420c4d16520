"""LearnSPN and HCLT: learned graphs are valid and normalised (all states enumerated), the
NumPy evaluation of the block tree equals the compiled node graph's TF evaluation, stepping
equals learning in one call, and the edge cases (constant columns, duplicate rows, one row, one
variable) learn."""
import itertools

import numpy as np
import pytest

from spnlab.graph import graph_to_config, log_value, validate
from spnlab.structure import (LearnSPN, fit_chow_liu, learn_spn,
                              mutual_information)
from spnlab.structure.hclt import HCLT, learn_hclt


def _states(num_vars, num_vals=2):
    return np.array(list(itertools.product(range(num_vals), repeat=num_vars)))


def _clustered_data(rows=600, num_vars=6, seed=0):
    """Two clusters of correlated binary variables plus an independent pair."""
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    dep = np.column_stack([z ^ (rng.random(rows) < 0.15) for _ in range(num_vars - 2)])
    free = rng.integers(2, size=(rows, 2))
    return np.column_stack([dep, free]).astype(int)


def _check_graph(learner, data):
    root = learner.graph()
    assert validate(root).is_valid
    states = _states(learner.num_vars, learner.num_vals)
    graph_ll = log_value(root, states)
    np.testing.assert_allclose(np.exp(graph_ll).sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(graph_ll, learner.log_likelihood(states), rtol=1e-5, atol=1e-5)
    return root


@pytest.mark.parametrize("leaves", ["factorized", "chow_liu"])
@pytest.mark.parametrize("clustering", ["kmeans", "em"])
def test_learnspn_partial_and_final_structures_are_valid_and_normalised(leaves, clustering):
    data = _clustered_data()
    learner = LearnSPN(data, min_instances_slice=150, leaves=leaves, clustering=clustering)
    _check_graph(learner, data)                      # before any step: all factorised
    kinds = []
    while not learner.done:
        decision = learner.step()
        kinds.append(decision.kind)
        if decision.step <= 3:
            _check_graph(learner, data)
    _check_graph(learner, data)
    assert kinds[0] == "product" and "sum" in kinds and kinds[-1] == "leaf"
    # the first variable split separates the two free variables from the dependent block
    assert sorted(map(sorted, learner.decisions[0].details["components"])) == \
        [[0, 1, 2, 3], [4], [5]]


def test_first_decision_on_dependent_variables_is_an_instance_split_with_its_evidence():
    data = _clustered_data()[:, :4]
    learner = LearnSPN(data, min_instances_slice=100)
    decision = learner.step()
    assert decision.kind == "sum" and decision.slice_id == 0 and decision.parent_id is None
    details = decision.details
    assert (details["p_values"][np.triu_indices(4, 1)] < 1e-3).all()
    assert details["components"] == [[0, 1, 2, 3]]          # the failed variable split
    assert details["sizes"].sum() == len(data) == len(details["labels"])
    np.testing.assert_allclose(details["weights"], details["sizes"] / len(data))
    for c, center in enumerate(details["centers"]):
        np.testing.assert_allclose(center, data[details["labels"] == c].mean(axis=0))
    assert [learner.pending[i][0] for i in range(2)] == list(decision.children)
    for (_, rows, cols), c in zip(learner.pending, range(2)):
        np.testing.assert_array_equal(rows, np.flatnonzero(details["labels"] == c))


def test_stepping_to_the_end_equals_learning_in_one_call_and_seeds_decide():
    data = _clustered_data(seed=3)
    stepped = LearnSPN(data, min_instances_slice=80, seed=7)
    while stepped.step() is not None:
        pass
    once = learn_spn(data, min_instances_slice=80, seed=7)
    assert graph_to_config(stepped.graph()) == graph_to_config(once)
    again = LearnSPN(data, min_instances_slice=80, seed=7)
    again.learn()
    assert [d.reason for d in again.decisions] == [d.reason for d in stepped.decisions]


@pytest.mark.parametrize("case", ["constant_columns", "duplicate_rows", "one_row",
                                  "one_variable"])
def test_learnspn_edge_cases_learn_valid_normalised_graphs(case):
    rng = np.random.default_rng(0)
    data = {
        "constant_columns": np.column_stack([np.ones(300, int), rng.integers(2, size=(300, 2)),
                                             np.zeros(300, int)]),
        "duplicate_rows": np.tile([[0, 1, 1], [1, 0, 0]], (200, 1)),
        "one_row": np.array([[0, 1, 1, 0]]),
        "one_variable": rng.integers(2, size=(300, 1)),
    }[case]
    learner = LearnSPN(data, min_instances_slice=2, num_vals=2)
    learner.learn()
    _check_graph(learner, data)
    assert np.isfinite(learner.log_likelihood(data)).all()


def test_duplicate_dependent_rows_that_cannot_cluster_become_a_factorised_leaf():
    data = np.tile([[1, 1, 1]], (50, 1))
    data[:25] = 0                                   # two distinct rows: one split, then leaves
    learner = LearnSPN(data, min_instances_slice=2)
    learner.learn()
    assert learner.decisions[0].kind == "sum"
    assert all(d.kind != "sum" for d in learner.decisions[1:])


def test_chow_liu_leaf_compiles_to_the_tree_distribution():
    data = _clustered_data(rows=300, num_vars=5)
    learner = LearnSPN(data, min_instances_slice=1000, leaves="chow_liu")
    decision = learner.step()
    assert decision.kind == "leaf" and decision.details["leaf"] == "chow_liu"
    tree = fit_chow_liu(data, 2, alpha=1.0)
    root = _check_graph(learner, data)
    np.testing.assert_allclose(log_value(root, _states(5)), tree.log_likelihood(_states(5)),
                               rtol=1e-5, atol=1e-6)


def test_hclt_with_k_equal_num_values_and_identity_emissions_is_the_chow_liu_tree():
    data = np.random.default_rng(2).integers(3, size=(200, 4))
    data[:, 1] = (data[:, 0] + (np.arange(200) % 5 == 0)) % 3
    hclt = HCLT(data, num_latent_states=3, noise=0.0, init="chow_liu")
    hclt.learn()
    tree = fit_chow_liu(data, 3)
    states = _states(4, 3)
    np.testing.assert_allclose(hclt.log_likelihood(states), tree.log_likelihood(states),
                               rtol=1e-10)
    _check_graph(hclt, data)


def test_hclt_with_one_latent_state_is_fully_factorised():
    data = _clustered_data(rows=200, num_vars=4)
    hclt = HCLT(data, num_latent_states=1, init="random", seed=3)
    hclt.learn()
    block = hclt.structure()
    states = _states(4)
    factorised = np.exp(block.log_emission[:, 0, :])         # [V, K], tree order
    expected = np.log(factorised[np.arange(4), states[:, list(block.cols)]]).sum(axis=1)
    np.testing.assert_allclose(hclt.log_likelihood(states), expected, rtol=1e-10)
    _check_graph(hclt, data)


@pytest.mark.parametrize("init", ["chow_liu", "random"])
def test_hclt_steps_attach_variables_in_prim_order_and_stay_normalised(init):
    data = _clustered_data(rows=300, num_vars=5)
    hclt = HCLT(data, num_latent_states=3, init=init, seed=1)
    first = hclt.step()
    assert first.kind == "tree"
    np.testing.assert_allclose(first.details["mutual_information"],
                               mutual_information(data, 2, 1.0))
    _check_graph(hclt, data)
    attached = [int(first.details["variable"])]
    while not hclt.done:
        decision = hclt.step()
        assert decision.kind == "edge" and decision.details["parent"] in attached
        attached.append(decision.details["variable"])
        _check_graph(hclt, data)
    assert sorted(attached) == list(range(5))
    assert graph_to_config(hclt.graph()) == graph_to_config(
        learn_hclt(data, 3, init=init, seed=1))


def test_learners_refuse_bad_data_and_arguments_naming_them():
    with pytest.raises(ValueError, match="data"):
        LearnSPN(np.array([[0.5, 1.0]]))
    with pytest.raises(TypeError, match="data"):
        LearnSPN(np.array([[True, False]]))
    with pytest.raises(ValueError, match="min_instances_slice"):
        LearnSPN(np.zeros((3, 2), int), min_instances_slice=0)
    with pytest.raises(ValueError, match="clustering"):
        LearnSPN(np.zeros((3, 2), int), clustering="dbscan")
    with pytest.raises(ValueError, match="num_vals"):
        LearnSPN(np.array([[0, 3]]), num_vals=2)
    learner = LearnSPN(np.zeros((3, 2), int))
    with pytest.raises(ValueError, match="2 columns"):
        learner.log_likelihood(np.zeros((3, 3), int))
    with pytest.raises(ValueError, match="num_latent_states"):
        HCLT(np.zeros((3, 2), int), num_latent_states=0)


def test_learnspn_with_rdc_splits_the_independent_variables():
    data = _clustered_data(rows=800)
    learner = LearnSPN(data, min_instances_slice=200, independence="rdc")
    first = learner.step()
    assert first.kind == "product" and first.details["p_values"] is None
    assert sorted(map(sorted, first.details["components"])) == [[0, 1, 2, 3], [4], [5]]
    learner.learn()
    _check_graph(learner, data)


def _continuous_data(rows=600, seed=0):
    """Two clusters in (x0, x1), x2 independent noise."""
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    x01 = rng.normal(size=(rows, 2)) * 0.5 + np.where(z[:, None] == 1, 2.0, -2.0)
    return np.column_stack([x01, rng.normal(size=rows)])


def test_learnspn_on_continuous_data_uses_rdc_and_normal_leaves():
    data = _continuous_data()
    learner = LearnSPN(data, min_instances_slice=100, data_type="continuous")
    assert learner.continuous and learner.independence == "rdc"
    first = learner.step()
    assert first.kind == "product"
    assert sorted(map(sorted, first.details["components"])) == [[0, 1], [2]]
    root = learner.learn()
    assert validate(root).is_valid
    kinds = [d.kind for d in learner.decisions]
    assert "sum" in kinds and all(d.details.get("leaf") in (None, "normal")
                                  for d in learner.decisions)
    # the compiled graph (NormalLeaf nodes, TF) equals the NumPy evaluation of the blocks
    np.testing.assert_allclose(log_value(root, data[:50]), learner.log_likelihood(data[:50]),
                               rtol=1e-4, atol=1e-4)
    # the learned density integrates to 1 over a grid covering the data (x0, x1; x2 out)
    grid = np.linspace(-6, 6, 121)
    step = grid[1] - grid[0]
    xs = np.array([[a, b, 0.0] for a in grid for b in grid])
    mask = np.tile([[True, True, False]], (len(xs), 1))
    from spnlab.graph import marginal
    total = np.exp(marginal(root, xs, mask)).sum() * step * step
    np.testing.assert_allclose(total, 1.0, atol=0.01)


def test_continuous_data_refuses_discrete_only_options_and_bad_values():
    data = _continuous_data(rows=50)
    with pytest.raises(ValueError, match="independence='rdc'"):
        LearnSPN(data, independence="g_test", data_type="continuous")
    with pytest.raises(ValueError, match="leaves='factorized'"):
        LearnSPN(data, leaves="chow_liu", data_type="continuous")
    with pytest.raises(ValueError, match="data_type"):
        LearnSPN(data, data_type="real")
    with pytest.raises(ValueError, match="whole numbers"):   # never guessed to be continuous
        LearnSPN(data)
    data[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"data\[3, 1\]=inf"):
        LearnSPN(data, data_type="continuous")
    learner = LearnSPN(np.array([[0.5, 1.0], [1.5, 2.5]]), min_instances_slice=10,
                       data_type="continuous")
    learner.learn()
    with pytest.raises(ValueError, match="2 columns"):
        learner.log_likelihood(np.zeros((2, 3)))


def test_a_mixture_of_hidden_trees_is_the_average_of_its_components():
    data = _clustered_data(rows=300, num_vars=5)
    mixture = HCLT(data, num_latent_states=2, init="random", seed=4, num_components=3)
    mixture.step()
    mixture.step()                                  # partial: two variables attached
    _check_graph(mixture, data)
    mixture.learn()
    _check_graph(mixture, data)
    states = _states(5)
    parts = [c.log_likelihood(states) for c in mixture.structure().children]
    np.testing.assert_allclose(mixture.log_likelihood(states),
                               np.log(np.mean(np.exp(parts), axis=0)), rtol=1e-10)
    assert len({round(float(p[0]), 6) for p in parts}) == 3     # three different initialisations


def test_a_mixture_over_different_trees_is_valid_at_every_step_and_its_trees_span():
    data = _clustered_data(rows=400, num_vars=6, seed=3)
    mixture = HCLT(data, num_latent_states=2, seed=1, num_components=4, tree_dropout=0.6)
    while mixture.step() is not None:                      # every partial mixture is an SPN
        _check_graph(mixture, data)
    assert len(mixture.decisions) == 6 and mixture.trees[0] is mixture.tree
    shapes = set()
    for tree in mixture.trees:                              # each a spanning tree, parents first
        assert (tree.parents < 0).sum() == 1
        assert sorted(map(int, tree.order)) == list(range(6))
        seen = {int(tree.order[0])}
        for v in tree.order[1:]:
            assert int(tree.parents[v]) in seen
            seen.add(int(v))
        shapes.add(tuple(int(p) for p in tree.parents))
    assert len(shapes) > 1                                  # the dropout gave other trees
    # the first tree is the Chow-Liu tree: the maximum spanning tree of the mutual information
    mi = mixture.tree.mutual_information
    weight = lambda t: sum(mi[v, t.parents[v]] for v in range(6) if t.parents[v] >= 0)  # noqa
    assert all(weight(mixture.tree) >= weight(t) - 1e-12 for t in mixture.trees)
    # without dropout every component is over the Chow-Liu tree, as before
    same = HCLT(data, num_latent_states=2, seed=1, num_components=3)
    same.learn()
    assert all(t is same.tree for t in same.trees)


def test_chow_liu_start_needs_a_state_per_value_and_random_start_is_normalised():
    data = np.random.default_rng(0).integers(3, size=(100, 3))
    with pytest.raises(ValueError, match="num_latent_states.*num_vals=3"):
        HCLT(data, num_latent_states=2, init="chow_liu")
    for k in (1, 2):
        hclt = HCLT(data, num_latent_states=k)            # the default start: random
        hclt.learn()
        np.testing.assert_allclose(np.exp(hclt.log_likelihood(_states(3, 3))).sum(), 1.0,
                                   rtol=1e-10)
