"""Graphs as JSON configs and GraphModels as `.keras` files: the round trip keeps structure,
sharing and values, and a loaded model trains on exactly as the saved one."""
import json

import keras
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.graph import (GraphModel, LaplaceLeaf, Product, Sum, Variable, get_scopes,
                          log_value, mpe, poon_domingos_example, random_spn, topological_order,
                          validate)
from spnlab.graph.serialize import graph_from_config, graph_to_config
from tests.graph.reference import all_states


def _round_trip(root, columns=None):
    return graph_from_config(json.loads(json.dumps(graph_to_config(root, columns))))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_graphs_survive_a_json_round_trip(seed):
    spn = random_spn(4, seed=seed, latent_root=seed == 1)
    root, columns = _round_trip(spn.root, spn.variables)
    assert [v.name for v in columns] == [v.name for v in spn.variables]
    assert validate(root).is_valid
    old, new = topological_order(spn.root), topological_order(root)
    assert [(type(n).__name__, n.name) for n in old] == [(type(n).__name__, n.name) for n in new]
    for a, b in zip(old, new):
        if hasattr(a, "weight_values"):
            np.testing.assert_array_equal(a.weight_values, b.weight_values)
            assert [(old.index(i.node), i.indices) for i in a.all_inputs] == \
                [(new.index(i.node), i.indices) for i in b.all_inputs]
    # Shared Weights stay shared: the same number of distinct Weights objects.
    distinct = lambda nodes: len({id(n.weights) for n in nodes if hasattr(n, "weights")})  # noqa
    assert distinct(old) == distinct(new)
    states = all_states(spn.variables)
    np.testing.assert_array_equal(log_value(root, states, variables=columns),
                                  log_value(spn.root, states, variables=spn.variables))


def test_location_scale_leaves_and_latent_indicators_round_trip():
    x, y = Variable("X"), Variable("Y")
    leaf = LaplaceLeaf(num_components=2, loc=[[0.0, 2.0], [1.0, -1.0]], scale=[[1.0, 0.5]] * 2,
                       variables=[x, y], name="L")
    root = Sum(Product((leaf, 0), (leaf, 2)), Product((leaf, 1), (leaf, 3)), weights=[0.3, 0.7],
               name="root")
    latent = root.generate_latent_indicators()
    new_root, columns = _round_trip(root, [x, y])
    assert columns[0].num_vals is None and new_root.latent_indicators is not None
    scope = {v.name for v in get_scopes(new_root)[new_root][0]}
    assert scope == {"X", "Y", latent.variables[0].name}
    data = np.random.default_rng(0).normal(size=(6, 2))
    np.testing.assert_array_equal(log_value(new_root, data, variables=columns),
                                  log_value(root, data, variables=[x, y]))
    np.testing.assert_array_equal(mpe(new_root, variables=columns).x,
                                  mpe(root, variables=[x, y]).x)


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="format 'spnlab.graph/1'"):
        graph_from_config({"nodes": []})
    config = graph_to_config(poon_domingos_example().root)
    config["nodes"][-1]["inputs"] = [[99, [0]]]
    with pytest.raises(ValueError, match=r"nodes\[\d+\]"):
        graph_from_config(config)
    with pytest.raises(TypeError, match="Expected `root` to be a Node"):
        graph_to_config("S")


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(root=99), r"Expected `root` to index one of the 8 nodes \(0 to 7\). "
                                  r"Received: root=99"),
    (lambda c: c.update(root=-2), r"Received: root=-2"),       # used to return another node
    (lambda c: c.update(root="7"), r"Received: root='7'"),
    (lambda c: c.pop("weights"), r"without \['weights'\]"),
    (lambda c: c.pop("root"), r"without \['root'\]"),
    (lambda c: c["variables"][0].pop("num_vals"), r"'variables' and 'weights' records"),
    (lambda c: c["nodes"][-1].update(inputs=[[-1, [0]]]), r"nodes\[7\].*inputs=-1"),
    (lambda c: c["nodes"][-1].update(weights=[-1, [0]]), r"nodes\[7\].*weights=-1"),
    (lambda c: c["nodes"][0].update(variables=[0, 5]), r"nodes\[0\].*variables=5"),
    (lambda c: c.update(columns=[0, -1]), r"Received: columns=-1"),
])
def test_indices_out_of_range_and_missing_keys_are_named(change, message):
    config = graph_to_config(poon_domingos_example().root, columns=poon_domingos_example()
                             .variables)
    assert graph_from_config(config)[0].name == "S"
    change(config)
    with pytest.raises(ValueError, match=message):
        graph_from_config(config)


@pytest.mark.parametrize("op", ["em", "grad"])
def test_graph_model_saves_as_keras_and_trains_on_identically(tmp_path, op):
    """After a step, save and load: same log-likelihoods and sum op; one more step on the
    loaded model and on the original gives the same weights (optimizer state included)."""
    spn = random_spn(5, seed=3, leaf="normal")
    make_op = spnk.SumOpEMBackprop if op == "em" else spnk.SumOpGradBackprop
    model = GraphModel(spn.root, sum_op=make_op(), variables=spn.variables)

    def compile_(m):
        m.compile(optimizer=spnk.OnlineExpectationMaximization(0.3) if op == "em"
                  else keras.optimizers.Adam(0.05),
                  loss=spnk.losses.NegativeLogLikelihood())
    compile_(model)
    x = np.random.default_rng(4).normal(size=(32, 5)).astype(np.float32)
    model.train_on_batch(x)
    path = tmp_path / "graph.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, GraphModel) and type(loaded.sum_op) is make_op
    assert loaded.leaf_params.em == model.leaf_params.em
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    model.train_on_batch(x)
    loaded.train_on_batch(x)
    for a, b in zip(model.variables, loaded.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert np.abs(loaded(x).numpy() - model(x).numpy()).max() < 1e-5
