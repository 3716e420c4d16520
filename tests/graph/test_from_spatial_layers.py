"""Expanding spatial (DGC-SPN) layer models into node graphs: valid graphs with the layer
model's log-likelihoods, products over exactly the kernel windows, shared Conv2DSum weights."""
import itertools

import keras
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.core import layers as L
from spnlab.graph import from_layer_model, get_scopes, log_value, validate
from spnlab.graph.products import Product
from spnlab.graph.sums import ParallelSums


def _init(seed):
    return spnk.initializers.Dirichlet(alpha=1.0, seed=seed)


def valid_strided(size):
    """Strided 'valid' products (windows tile the image), per-position sums, a DenseSum head."""
    return [L.IndicatorLeaf(2), L.Local2DSum(3, accumulator_initializer=_init(1)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.Local2DSum(3, accumulator_initializer=_init(2)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=8, seed=0),
            L.SpatialToRegions(), L.DenseSum(2, accumulator_initializer=_init(3))]


def full_final(size):
    """Overlapping 'full' products with growing dilation, a 'final' top product, Conv2DSums."""
    return [L.IndicatorLeaf(2), L.Conv2DSum(2, accumulator_initializer=_init(4)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.Local2DSum(2, accumulator_initializer=_init(5)),
            L.Conv2DProduct(strides=1, dilations=1, kernel_size=2, padding="full",
                            num_channels=5, seed=1),
            L.Conv2DSum(2, accumulator_initializer=_init(6)),
            L.Conv2DProduct(strides=1, dilations=2, kernel_size=2, padding="final"),
            L.SpatialToRegions()]


def full_3x3(size):
    """A 3x3 image: strided 'full' padding (windows partly padding), a 'final' top product."""
    return [L.IndicatorLeaf(2), L.Local2DSum(2, accumulator_initializer=_init(7)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, padding="full",
                            num_channels=3, seed=2),
            L.Conv2DSum(2, accumulator_initializer=_init(8)),
            L.Conv2DProduct(strides=1, dilations=1, kernel_size=2, padding="final",
                            depthwise=True),
            L.SpatialToRegions()]


def normal_valid(size):
    """Normal leaves on a 4x4 image, strided 'valid' products."""
    return [L.NormalLeaf(2, location_initializer=keras.initializers.RandomNormal(seed=1),
                         scale_initializer=keras.initializers.RandomUniform(0.5, 2.0, seed=2)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=4, seed=3),
            L.Conv2DSum(2, accumulator_initializer=_init(9)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.SpatialToRegions()]


def build(make_layers, size, dtype="int32", root_logits=False):
    with spnk.default_sum_op(spnk.SumOpGradBackprop()):
        layers = make_layers(size) + [L.RootSum(return_weighted_child_logits=root_logits,
                                                accumulator_initializer=_init(10))]
    return spnk.SequentialSumProductNetwork([keras.Input((size, size, 1), dtype=dtype)] + layers)


def binary_images(n, size, seed):
    return np.random.default_rng(seed).integers(2, size=(n, size, size, 1)).astype("int32")


def _pixel(graph, size):
    """`{variable: (row, col)}` from the documented row-major variable order."""
    return {v: divmod(i, size) for i, v in enumerate(graph.variables)}


@pytest.mark.parametrize("make_layers,size", [(valid_strided, 4), (full_final, 4),
                                              (full_3x3, 3)])
def test_dgcspn_graph_gives_the_layer_log_likelihoods(make_layers, size):
    model = build(make_layers, size)
    graph = from_layer_model(model)
    assert len(graph.variables) == size * size
    assert [v.name for v in graph.variables] == [f"x{i}" for i in range(size * size)]
    report = validate(graph.root)
    assert report.is_valid, report
    x = binary_images(40, size, seed=size)
    expected = spnk.log_likelihood(model, x)
    np.testing.assert_allclose(model(x).numpy()[:, 0], expected, rtol=1e-5)
    got = log_value(graph.root, x.reshape(len(x), -1), variables=graph.variables)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    if size == 3:                                         # all 512 images: a distribution
        states = np.array(list(itertools.product([0, 1], repeat=9)), "int32")
        total = log_value(graph.root, states, variables=graph.variables)
        np.testing.assert_allclose(np.exp(total.astype(np.float64)).sum(), 1.0, rtol=1e-5)


def test_normal_leaves_on_images():
    model = build(normal_valid, 4, dtype="float32")
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    x = np.random.default_rng(0).normal(size=(30, 4, 4, 1)).astype("float32")
    np.testing.assert_allclose(log_value(graph.root, x.reshape(30, -1),
                                         variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5)


def test_products_cover_their_kernel_windows():
    """Every Conv2DProduct node's scope is exactly the in-image pixels of its (dilated,
    strided, padded) window, traced through all the layers below it."""
    model = build(full_final, 4)
    graph = from_layer_model(model)
    pixel = _pixel(graph, 4)
    layers = {layer.name: layer for layer in model.layers}
    # the pixels under every position after each layer, from the layers' geometry alone
    cover = {(r, c): {(r, c)} for r in range(4) for c in range(4)}
    covers = {}
    for layer in model.layers:
        if isinstance(layer, L.Conv2DProduct):
            rows, cols = max(k[0] for k in cover) + 1, max(k[1] for k in cover) + 1
            top, _, left, _ = layer.pad_sizes(rows, cols)
            _, out_r, out_c, _ = layer.compute_output_shape((None, rows, cols, 1))
            new = {}
            for r, c in itertools.product(range(out_r), range(out_c)):
                new[r, c] = set()
                for i, j in itertools.product(range(layer.kernel_size[0]),
                                              range(layer.kernel_size[1])):
                    h = r * layer.strides[0] + i * layer.dilations[0] - top
                    w = c * layer.strides[1] + j * layer.dilations[1] - left
                    if 0 <= h < rows and 0 <= w < cols:
                        new[r, c] |= cover[h, w]
            cover = new
        covers[layer.name] = cover
    checked = 0
    for node, scopes in get_scopes(graph.root).items():
        origin = getattr(node, "origin", None)
        if not isinstance(node, (Product, ParallelSums)) or origin is None \
                or origin[0] not in layers or isinstance(layers[origin[0]], L.RootSum):
            continue
        for scope in scopes:
            assert {pixel[v] for v in scope} == covers[origin[0]][origin[1], origin[2]], node
        checked += 1
    assert checked > 50


def test_conv2d_sums_share_one_weights_node_and_origins_are_positions():
    model = build(full_final, 4)
    graph = from_layer_model(model)
    nodes = list(get_scopes(graph.root))
    conv_sums = [layer for layer in model.layers if isinstance(layer, L.Conv2DSum)]
    for layer in conv_sums:
        sums = [n for n in nodes if isinstance(n, ParallelSums)
                and getattr(n, "origin", (None,))[0] == layer.name]
        assert len(sums) > 1
        weights = {id(s.weights) for s in sums}
        assert len(weights) == 1
        shared = sums[0].weights
        assert shared.num_sets == layer.num_sums
        expected = np.exp(layer.log_weights().numpy()[0, 0].T.astype(np.float64))
        np.testing.assert_allclose(shared.values, expected, rtol=1e-5)
        assert all(s.weight_sets == tuple(range(layer.num_sums)) for s in sums)
        assert {n.origin[1:] for n in sums} == {(n.origin[1], n.origin[2]) for n in sums}
    local = [n for n in nodes if isinstance(n, ParallelSums) and n.origin
             and isinstance(model.get_layer(n.origin[0]), L.Local2DSum)]
    assert len({id(n.weights) for n in local}) == len(local)      # per-position weights
    products = [n for n in nodes if isinstance(n, Product)]
    assert products and all(len(n.origin) == 4 for n in products)
    assert all(n.name == f"{n.origin[0]}[{n.origin[1]},{n.origin[2]},{n.origin[3]}]"
               for n in products)


def test_weighted_child_logits_head():
    """A RootSum returning child logits still expands to the likelihood's root."""
    model = build(valid_strided, 4, root_logits=True)
    graph = from_layer_model(model)
    x = binary_images(10, 4, seed=9)
    np.testing.assert_allclose(log_value(graph.root, x.reshape(10, -1),
                                         variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5)


@pytest.mark.parametrize("leaf", ["indicator", "categorical", "normal"])
def test_multichannel_images_expand_with_one_variable_per_channel(leaf):
    """`[B, 2, 2, 2]` images: pixel (r, c) channel k is variable `(2 r + c) * 2 + k`; each leaf
    component is a product over the channels, and the graph is the layer model's density
    (all 256 binary images sum to 1)."""
    layer = {"indicator": lambda: L.IndicatorLeaf(2),
             "categorical": lambda: L.CategoricalLeaf(2, num_categories=2, use_accumulators=True,
                                                      accumulator_initializer=_init(12)),
             "normal": lambda: L.NormalLeaf(2, location_initializer=keras.initializers.
                                            RandomNormal(seed=3))}[leaf]()
    dtype = "float32" if leaf == "normal" else "int32"
    model = spnk.SequentialSumProductNetwork([
        keras.Input((2, 2, 2), dtype=dtype), layer,
        L.Local2DSum(2, accumulator_initializer=_init(13)),
        L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=3, seed=5),
        L.SpatialToRegions(), L.RootSum(return_weighted_child_logits=False,
                                        accumulator_initializer=_init(14))])
    rng = np.random.default_rng(6)
    x = (rng.normal(size=(20, 2, 2, 2)) if leaf == "normal"
         else rng.integers(2, size=(20, 2, 2, 2))).astype(dtype)
    model(x)
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid and len(graph.variables) == 8
    np.testing.assert_allclose(log_value(graph.root, x.reshape(20, -1), variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5, atol=1e-5)
    index = {v: i for i, v in enumerate(graph.variables)}
    sums = [n for n in get_scopes(graph.root) if isinstance(n, ParallelSums)
            and n.name.startswith("local2d_sum")]
    for node in sums:
        r, c = node.origin[1:]
        assert {index[v] for v in get_scopes(graph.root)[node][0]} == \
            {(2 * r + c) * 2, (2 * r + c) * 2 + 1}
    if leaf != "normal":
        states = np.array(list(itertools.product([0, 1], repeat=8)), "int32")
        total = log_value(graph.root, states, variables=graph.variables).astype(np.float64)
        np.testing.assert_allclose(np.exp(total).sum(), 1.0, rtol=1e-5)


def test_categorical_leaves_on_images():
    model = spnk.SequentialSumProductNetwork([
        keras.Input((4, 4, 1), dtype="int32"),
        L.CategoricalLeaf(2, num_categories=3, use_accumulators=True),
        L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=4, seed=4),
        L.Local2DSum(2, accumulator_initializer=_init(11)),
        L.Conv2DProduct(strides=1, dilations=1, kernel_size=2, padding="final", depthwise=True),
        L.SpatialToRegions(), L.RootSum(return_weighted_child_logits=False)])
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    x = np.random.default_rng(1).integers(3, size=(30, 4, 4, 1)).astype("int32")
    np.testing.assert_allclose(log_value(graph.root, x.reshape(30, -1),
                                         variables=graph.variables),
                               spnk.log_likelihood(model, x), rtol=1e-5)
