"""Expanding layer models into node graphs: same log-likelihoods, right scopes, valid graphs,
one collapsed DOT level per layer, and training that matches the layer model."""
import re

import keras
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.core import layers as L
from spnlab.graph import (GraphModel, from_layer_model, get_scopes, log_value, node_heights,
                          node_log_values, to_dot, validate)
from tests.core.reference import all_states, small_ratspn


def _expected_region_scopes(model):
    """`{layer name: [S][D] frozensets of variable indices}` after every layer, computed from
    the layers' shapes and permutations alone."""
    scopes, found = None, {}
    for layer in model.layers:
        if isinstance(layer, L.FlatToRegions):
            num_vars = model.inputs[0].shape[1]
            scopes = [[frozenset([s])] * layer.num_decomps for s in range(num_vars)]
        elif isinstance(layer, L.PermuteAndPadScopes):
            perms = layer.permutations.numpy()
            scopes = [[scopes[p][d] if p >= 0 else frozenset() for d, p in enumerate(perms[:, s])]
                      for s in range(perms.shape[1])]
        elif isinstance(layer, (L.DenseProduct, L.ReduceProduct)):
            f = layer.num_factors
            scopes = [[frozenset().union(*(scopes[j * f + i][d] for i in range(f)))
                       for d in range(len(scopes[0]))] for j in range(len(scopes) // f)]
        elif isinstance(layer, L.Undecompose):
            per = len(scopes[0]) // layer.num_decomps
            scopes = [[frozenset().union(*row[g * per:(g + 1) * per])
                       for g in range(layer.num_decomps)] for row in scopes]
        found[layer.name] = scopes
    return found


def _check_scopes(model, graph):
    expected = _expected_region_scopes(model)
    names = {v: int(v.name[1:]) for v in graph.variables}
    checked = 0
    for node, node_scopes in get_scopes(graph.root).items():
        match = re.fullmatch(r"(.+)\[(\d+),(\d+)(,\d+)?\]", node.name)
        if not match or match.group(1) not in expected:
            continue
        s, d = int(match.group(2)), int(match.group(3))
        for scope in node_scopes:
            assert {names[v] for v in scope} == expected[match.group(1)][s][d], node.name
        checked += 1
    assert checked > 0
    root_scope = {names[v] for v in get_scopes(graph.root)[graph.root][0]}
    assert root_scope == set(range(len(graph.variables)))


def _one_layer_per_level(graph):
    heights = node_heights(graph.root)
    layer_of = {}
    for node, height in heights.items():
        layer = node.name.split("[")[0]
        layer_of.setdefault(height, set()).add(layer)
    assert all(len(layers) == 1 for layers in layer_of.values()), layer_of
    dot = to_dot(graph.root, collapsed=True)
    assert len(re.findall(r'^  "level \d+" \[', dot, flags=re.M)) == len(layer_of)
    return [next(iter(layer_of[h])) for h in sorted(layer_of)]


@pytest.mark.parametrize("num_vars,seed,depth,reps", [(4, 0, 2, 2), (5, 1, 2, 3), (7, 2, 1, 2)])
def test_ratspn_graph_gives_the_layer_log_likelihoods(num_vars, seed, depth, reps):
    model = small_ratspn(num_vars, seed, depth=depth, reps=reps, inputs=2, sums=3)
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    states = all_states(num_vars)
    np.testing.assert_allclose(log_value(graph.root, states, variables=graph.variables),
                               spnk.log_likelihood(model, states), rtol=1e-5)
    _check_scopes(model, graph)
    layers = _one_layer_per_level(graph)
    assert layers[0] == model.layers[1].name and layers[-1] == model.layers[-1].name


def test_ratspn_with_normal_leaves():
    leaf = L.NormalLeaf(3, location_initializer=keras.initializers.RandomNormal(seed=1),
                        scale_initializer=keras.initializers.RandomUniform(0.5, 2.0, seed=2))
    model = spnk.ratspn(6, depth=2, num_repetitions=2, num_input_distributions=3, num_sums=2,
                        leaf=leaf, seed=3,
                        accumulator_initializer=spnk.initializers.Dirichlet(alpha=1.0, seed=4))
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    x = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    np.testing.assert_allclose(log_value(graph.root, x, variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5)
    _check_scopes(model, graph)


def test_region_graph_with_categorical_leaves_and_sums_first():
    rg = spnk.RegionNode([spnk.RegionNode([spnk.RegionVariable(0), spnk.RegionVariable(2)]),
                          spnk.RegionNode([spnk.RegionVariable(1), spnk.RegionVariable(3),
                                           spnk.RegionVariable(4)])])
    leaf = L.CategoricalLeaf(2, num_categories=3, use_accumulators=True)
    model = spnk.region_graph_to_dense_spn(
        rg, leaf, iter([2, 3, 2]), return_weighted_child_logits=True, product_first=False,
        accumulator_initializer=spnk.initializers.Dirichlet(alpha=1.0, seed=5),
        sum_op=spnk.SumOpEMBackprop())
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    states = all_states(5, 3)
    expected = spnk.log_likelihood(model, states)
    np.testing.assert_allclose(log_value(graph.root, states, variables=graph.variables),
                               expected, rtol=1e-5)
    assert abs(np.log(np.exp(expected.astype(np.float64)).sum())) < 1e-5
    _check_scopes(model, graph)


def _hand_stack():
    init = spnk.initializers.Dirichlet(alpha=1.0, seed=6)
    return spnk.SequentialSumProductNetwork([
        keras.Input(shape=(4,), dtype="int32"), L.FlatToRegions(2, dtype="int32"),
        L.IndicatorLeaf(2), L.DenseSum(2, accumulator_initializer=init),
        L.PermuteAndPadScopes(permutations=np.array([[0, 1, 2, 3], [2, 0, 3, 1]])),
        L.DenseProduct(2), L.DenseSum(2, accumulator_initializer=init),
        L.LogDropout(0.3), L.DenseProduct(2), L.Undecompose(1),
        L.DenseSum(2, accumulator_initializer=init),
        L.RootSum(return_weighted_child_logits=False, accumulator_initializer=init)])


def test_undecompose_and_log_dropout():
    model = _hand_stack()
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    states = all_states(4)
    np.testing.assert_allclose(log_value(graph.root, states, variables=graph.variables),
                               spnk.log_likelihood(model, states), rtol=1e-5)
    _check_scopes(model, graph)
    _one_layer_per_level(graph)


@pytest.mark.parametrize("op", ["grad", "em", "hard", "unweighted"])
def test_graph_model_of_an_expansion_trains_like_the_layer_model(op):
    """One step of each deterministic sum op (no ties on complete binary data) moves the layer
    model and the GraphModel of its expansion to the same distribution."""
    make_op = {"grad": spnk.SumOpGradBackprop, "em": spnk.SumOpEMBackprop,
               "hard": spnk.SumOpHardEMBackprop,
               "unweighted": spnk.SumOpUnweightedHardEMBackprop}[op]
    model = small_ratspn(5, 3, sum_op=make_op(), depth=2, reps=2, inputs=2, sums=2)
    graph = GraphModel(from_layer_model(model).root, sum_op=make_op())
    x = all_states(5)[np.random.default_rng(0).integers(32, size=64)]
    expected = _one_step_each(model, graph, x, 0.5 if op == "grad" else None)
    np.testing.assert_allclose(graph(x).numpy()[:, 0], expected, rtol=1e-5)


def _one_step_each(model, graph, x, sgd_rate):
    """One `train_on_batch` of the layer model and of its GraphModel (SGD with `sgd_rate`, or
    online EM with rate 0.5 when None); the layer model's new log-likelihoods, checked to have
    moved."""
    before = spnk.log_likelihood(model, x)
    for m in (model, graph):
        m.compile(optimizer=keras.optimizers.SGD(sgd_rate) if sgd_rate else
                  spnk.OnlineExpectationMaximization(0.5),
                  loss=spnk.losses.NegativeLogLikelihood())
        m.train_on_batch(x)
    expected = spnk.log_likelihood(model, x)
    assert np.abs(expected - before).max() > 1e-3                         # the step moved it
    return expected


def _normal_leaf_model(num_vars, leaf, normalize=None, dims=None):
    """A region SPN over 4 variables with `leaf`, two decompositions (scopes {0,1},{2,3} and
    {0,2},{1,3}), a DenseSum per pair and a RootSum."""
    shape = (num_vars,) if dims is None else (num_vars, dims)
    head = [keras.Input(shape=shape)] + ([normalize] if normalize is not None else [])
    return spnk.SequentialSumProductNetwork(head + [
        L.FlatToRegions(2), leaf,
        L.PermuteAndPadScopes(permutations=np.array([[0, 1, 2, 3], [2, 0, 3, 1]])),
        L.DenseProduct(2), L.DenseSum(2, accumulator_initializer=spnk.initializers.Dirichlet(
            alpha=1.0, seed=5)),
        L.DenseProduct(2), L.RootSum(return_weighted_child_logits=False,
                                     accumulator_initializer=spnk.initializers.Dirichlet(
                                         alpha=1.0, seed=6))])


def _spread(seed):
    return dict(location_initializer=keras.initializers.RandomNormal(seed=seed),
                scale_initializer=keras.initializers.RandomUniform(0.5, 2.0, seed=seed + 1))


@pytest.mark.parametrize("family", ["LaplaceLeaf", "CauchyLeaf"])
def test_laplace_and_cauchy_leaves_expand_to_their_densities(family):
    """The graph's leaves are the scipy densities at the layer's parameters, and the whole
    graph gives the layer model's log-likelihood."""
    from scipy import stats

    model = _normal_leaf_model(4, getattr(L, family)(2, **_spread(1)))
    x = np.random.default_rng(2).standard_cauchy(size=(25, 4)).astype(np.float32)
    model(x)
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    np.testing.assert_allclose(log_value(graph.root, x, variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5, atol=1e-5)
    leaf_layer = model.layers[1]
    loc, scale = (t.numpy()[0] for t in leaf_layer.location_and_scale())  # [S, D, K, 1]
    leaves = [n for n in get_scopes(graph.root) if type(n).__name__ == family]
    assert len(leaves) == 2                                               # one per decomp
    dist = stats.laplace if family == "LaplaceLeaf" else stats.cauchy
    for d, leaf in enumerate(sorted(leaves, key=lambda n: n.name)):
        values = node_log_values(graph.root, x[:3], variables=graph.variables)[leaf]  # [3, V*K]
        want = dist.logpdf(x[:3, :, None], loc[:, d, :, 0], scale[:, d, :, 0])      # [3, V, K]
        np.testing.assert_allclose(values, want.reshape(3, -1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axes", ["variable-wise", "global"])
def test_normalize_standard_score_becomes_leaf_parameters_of_x(axes):
    """The graph is the density of raw x: the layer model's value (a density of the
    normalised data) minus the Jacobian `sum log(stddev + eps)`; marginals alike."""
    rng = np.random.default_rng(3)
    data = (rng.normal(size=(200, 4)) * [1.0, 4.0, 0.5, 2.0] + [0.0, 10.0, -3.0, 1.0])
    norm = L.NormalizeStandardScore(axes=axes)
    norm.adapt(data)
    model = _normal_leaf_model(4, L.NormalLeaf(2, **_spread(4)), normalize=norm)
    x = data[:20].astype(np.float32)
    model(x)
    graph = from_layer_model(model)
    stddev = data.std(axis=0 if axes == "variable-wise" else None)
    np.testing.assert_allclose(graph.log_scale, np.broadcast_to(np.log(stddev + 1e-8), (4,)),
                               rtol=1e-5)
    np.testing.assert_allclose(log_value(graph.root, x, variables=graph.variables),
                               spnk.log_likelihood(model, x) - graph.log_scale.sum(),
                               rtol=1e-5, atol=1e-4)
    # One variable alone: its marginal is a 1-D mixture of x, so it integrates to 1.
    grid = np.linspace(-40.0, 60.0, 40001)
    mask = np.zeros((len(grid), 4), bool)
    mask[:, 1] = True
    xs = np.zeros((len(grid), 4), np.float32)
    xs[:, 1] = grid
    density = np.exp(log_value(graph.root, xs, evidence_mask=mask, variables=graph.variables))
    np.testing.assert_allclose(np.trapezoid(density, grid), 1.0, rtol=1e-4)


def test_sample_wise_normalization_and_unknown_layers_are_named():
    model = _normal_leaf_model(4, L.NormalLeaf(2), normalize=L.NormalizeStandardScore())
    model(np.ones((2, 4), np.float32))
    with pytest.raises(TypeError, match="sample-wise.*normalize_standard_score"):
        from_layer_model(model)
    discrete = spnk.SequentialSumProductNetwork([
        keras.Input(shape=(4,)), L.NormalizeStandardScore(axes="global"), L.FlatToRegions(1),
        L.IndicatorLeaf(2), L.PermuteAndPadScopes(permutations=np.array([[0, 1, 2, 3]])),
        L.DenseProduct(4), L.RootSum(return_weighted_child_logits=False)])
    discrete(np.ones((2, 4), np.float32))
    with pytest.raises(TypeError, match="discrete leaf 'indicator_leaf"):
        from_layer_model(discrete)
    odd = spnk.SequentialSumProductNetwork([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    odd(np.ones((2, 4), np.float32))
    with pytest.raises(TypeError, match="cannot expand Dense"):
        from_layer_model(odd)
    with pytest.raises(ValueError, match="layers"):
        from_layer_model(keras.Sequential())


def test_several_values_per_scope_become_products_of_univariate_leaves():
    """Data `[B, V, dims]`: each leaf component is a Product over the dims' leaves; the graph
    is the layer model's density of the flattened data."""
    model = _normal_leaf_model(4, L.NormalLeaf(2, **_spread(7)), dims=3)
    x = np.random.default_rng(4).normal(size=(15, 4, 3)).astype(np.float32)
    model(x)
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid and len(graph.variables) == 12
    np.testing.assert_allclose(log_value(graph.root, x.reshape(15, -1),
                                         variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5, atol=1e-5)
    # Scope of the component products of scope s: the dims of variable s.
    names = {v: int(v.name[1:]) for v in graph.variables}
    products = [n for n in get_scopes(graph.root) if re.fullmatch(r"normal_leaf.*\[\d+,\d+,\d+\]",
                                                                  n.name)]
    assert len(products) == 4 * 2 * 2
    for node in products:
        s = int(node.name.split("[")[1].split(",")[0])
        assert {names[v] for v in get_scopes(graph.root)[node][0]} == {3 * s, 3 * s + 1, 3 * s + 2}


@pytest.mark.parametrize("op", ["grad", "em"])
def test_graph_model_trains_laplace_leaves_like_the_layer_model(op):
    """Leaf parameters too: a gradient step (loc, softplus scale) and an EM step (moment
    statistics) give the GraphModel of the expansion the layer model's new distribution."""
    make_op = spnk.SumOpGradBackprop if op == "grad" else spnk.SumOpEMBackprop
    with spnk.default_sum_op(make_op()):
        model = _normal_leaf_model(4, L.LaplaceLeaf(2, scale_trainable=True,
                                                    use_accumulators=op == "em", **_spread(8)))
    x = np.random.default_rng(9).laplace(size=(32, 4)).astype(np.float32)
    model(x)
    graph = GraphModel(from_layer_model(model).root, sum_op=make_op())
    expected = _one_step_each(model, graph, x, 0.1 if op == "grad" else None)
    np.testing.assert_allclose(graph(x).numpy()[:, 0], expected, rtol=1e-5, atol=1e-5)
    leaf = model.layers[1]
    graph.write_back()
    loc = leaf.location_and_scale()[0].numpy()[0, :, 0, :, 0]             # [S, K] of decomp 0
    node = next(n for n in get_scopes(graph.plan.root) if n.name.endswith("[0]")
                and type(n).__name__ == "LaplaceLeaf")
    np.testing.assert_allclose(node.loc, loc, rtol=1e-5, atol=1e-6)
