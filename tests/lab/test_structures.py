"""Built-in structures: the Poon & Domingos image SPN (valid, normalised, cut along lines) in a
session that steps, learns, switches structure and checkpoints; bad settings name the field."""
import itertools

import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.graph import from_layer_model, get_scope, log_value, validate
from spnlab.lab import Session, SessionConfig
from spnlab.core.models.images import poon_domingos_region_graphs, region_cuts
from spnlab.lab.build import build_model


def pd_config(image_shape, region_resolution=1, **overrides):
    return SessionConfig(structure="poon_domingos", dataset="custom", image_shape=image_shape,
                         region_resolution=region_resolution, **overrides)


def all_binary_images(num_pixels):
    return np.array(list(itertools.product([0, 1], repeat=num_pixels)), np.int32)


def rectangle(variables, width):
    """(top, left, height, width) of a set of pixel indices, or None if not a full rectangle."""
    rows, cols = np.divmod(np.array(sorted(variables)), width)
    top, left = rows.min(), cols.min()
    height, wide = rows.max() - top + 1, cols.max() - left + 1
    return (top, left, height, wide) if height * wide == len(variables) else None


def test_region_cuts_are_every_line_or_the_grid_lines_crossing_a_region():
    assert region_cuts((0, 0, 2, 3), 1) == [(0, 1), (1, 1), (1, 2)]
    assert region_cuts((0, 0, 8, 8), 4) == [(0, 4), (1, 4)]
    assert region_cuts((0, 0, 8, 8), 2) == [(0, 2), (0, 4), (0, 6), (1, 2), (1, 4), (1, 6)]
    assert len(region_cuts((0, 0, 8, 8), 1)) == 14
    # inside one 4x4 grid cell: every pixel line (PD's fine decomposition)
    assert region_cuts((4, 0, 4, 4), 4) == [(0, 5), (0, 6), (0, 7), (1, 1), (1, 2), (1, 3)]
    # a region crossing a grid line is cut on it only
    assert region_cuts((0, 4, 2, 4), 2) == [(1, 6)]


def test_one_region_tree_per_cut_of_the_image_each_cutting_down_to_pixels():
    roots = poon_domingos_region_graphs((2, 3), 1)
    assert [repr(r) for r in roots] == ["{{x0, {x1, x2}}, {x3, {x4, x5}}}",
                                        "{{x0, x3}, {{x1, x2}, {x4, x5}}}",
                                        "{{{x0, x1}, {x3, x4}}, {x2, x5}}"]
    for root in poon_domingos_region_graphs((8, 8), 4):
        assert sorted(v.index for v in root.scope) == list(range(64))


@pytest.mark.parametrize("shape,resolution", [((2, 3), 1), ((2, 4), 2), ((3, 2), 1)])
def test_poon_domingos_spn_is_valid_and_normalised(shape, resolution):
    num_pixels = shape[0] * shape[1]
    model = build_model(pd_config(shape, resolution, init_alpha=0.5, seed=3), num_pixels, "em")
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid, str(validate(graph.root))
    x = all_binary_images(num_pixels)
    layer_ll = np.asarray(spnk.log_likelihood(model, x), np.float64).ravel()     # [2**n]
    graph_ll = np.asarray(log_value(graph.root, x, variables=graph.variables),
                          np.float64).ravel()
    np.testing.assert_allclose(np.exp(layer_ll).sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.exp(graph_ll).sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(layer_ll, graph_ll, atol=1e-4)


def test_uneven_region_trees_expand_to_a_node_graph():
    """Trees of uneven depth (3x3: padding scopes pass a DenseSum) expand, and the graph is the
    layer model's distribution."""
    model = build_model(pd_config((3, 3)), 9, "em")
    x = all_binary_images(9)
    expected = np.asarray(spnk.log_likelihood(model, x), np.float64)
    np.testing.assert_allclose(np.exp(expected).sum(), 1.0, rtol=1e-5)
    graph = from_layer_model(model)
    assert validate(graph.root).is_valid
    np.testing.assert_allclose(log_value(graph.root, x, variables=graph.variables), expected,
                               rtol=1e-5, atol=1e-5)


def test_the_root_mixes_products_of_two_rectangles_split_along_every_line():
    height, width = 2, 3
    model = build_model(pd_config((height, width)), height * width, "em")
    graph = from_layer_model(model)
    index = {v: i for i, v in enumerate(graph.variables)}
    lines = set()
    for product, _ in graph.root.child_outputs:
        halves = [rectangle({index[v] for v in get_scope(child)[output]}, width)
                  for child, output in product.child_outputs]
        assert len(halves) == 2 and None not in halves
        (t1, l1, h1, w1), (t2, l2, h2, w2) = sorted(halves)
        assert h1 * w1 + h2 * w2 == height * width                  # a partition of the image
        if (l1, w1) == (l2, w2) == (0, width):                      # one above the other
            lines.add((0, t2))
        else:
            assert (t1, h1) == (t2, h2) == (0, height) and l1 == 0 and l2 == w1
            lines.add((1, l2))
    assert lines == {(0, 1), (1, 1), (1, 2)}
    # num_sums**2 products per cut (equal ones are one node in the graph)
    assert model.sum_layers[-1].accumulators.shape[2] == 3 * 4 ** 2


def test_digits_model_sizes_and_seeded_weights():
    config = SessionConfig(structure="poon_domingos")                # 8x8, resolution 4
    model = build_model(config, 64, "em")
    shapes = [tuple(layer.accumulators.shape) for layer in model.sum_layers]
    # two cuts of the image (rows at 4, columns at 4); 4 distributions per pixel, 4 sums per
    # region, regions halve 6 times: 64 pixels -> 32 pairs -> ... -> 2 halves -> the root
    assert shapes == [(64, 2, 2, 4), (32, 2, 16, 4), (16, 2, 16, 4), (8, 2, 16, 4),
                      (4, 2, 16, 4), (2, 2, 16, 4), (1, 1, 2 * 16, 1)]
    assert sum(int(np.prod(s)) for s in shapes) == 8992
    again = build_model(config, 64, "em")
    other = build_model(config.replace(seed=1), 64, "em")
    for a, b, c in zip(model.get_weights(), again.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in
               zip(model.get_weights(), other.get_weights()) if a.dtype.kind == "f")


def test_session_steps_with_taps_and_full_batch_em_raises_the_log_likelihood():
    s = Session(structure="poon_domingos", batch_size=2000, em_learning_rate=1.0,
                test_every=0)
    lls = [s.evaluate("train")]
    for _ in range(4):
        record = s.step()
        lls.append(s.evaluate("train"))
    assert all(b >= a - 1e-4 for a, b in zip(lls, lls[1:])), lls
    assert lls[-1] > lls[0] + 5.0                                     # nats per image
    sums = [layer["key"] for layer in s.layers if layer["kind"] == "sum"]
    assert sums == [f"S{i}" for i in range(1, 8)]
    assert set(sums) <= set(record.taps.layers)
    probs = s.marginals(s.data.test[0])                              # [64, 2], nothing observed
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_rebuild_switches_between_built_in_structures_only():
    s = Session("classroom", test_every=0)
    s.set_sum_op("all", "hard_em")
    s.step()
    s.rebuild(structure="poon_domingos", num_sums=2)
    assert s.config.structure == "poon_domingos" and s.step_count == 0
    assert s.sum_ops["S7"] == "hard_em"                              # the op is kept
    assert s.step().train_ll < 0
    s.rebuild(structure="ratspn")
    assert len(s.sum_ops) == 4                                       # classroom: depth 2
    custom = Session(model=s.model, data=s.data.train[:50], test_every=0)
    with pytest.raises(ValueError, match="structure"):
        custom.rebuild(structure="poon_domingos")


def test_a_failed_rebuild_changes_nothing():
    data = np.random.default_rng(0).integers(0, 2, size=(30, 6))
    s = Session(structure="poon_domingos", image_shape=(2, 3), region_resolution=1,
                data=data, test_every=0)
    s.step()
    weights = [w.copy() for w in s.model.get_weights()]
    with pytest.raises(ValueError, match=r"image_shape=\(3, 3\)"):
        s.rebuild(image_shape=(3, 3))                                # 9 pixels, 6 variables
    assert s.config.image_shape == (2, 3) and s.step_count == 1
    for got, want in zip(s.model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


def test_checkpoint_of_a_poon_domingos_session_resumes_exactly(tmp_path):
    s = Session(structure="poon_domingos", batch_size=32, test_every=0)
    s.run(2, progress=False)
    restored = Session.restore(s.checkpoint(tmp_path / "pd"))
    assert restored.config == s.config
    assert restored.step().train_ll == s.step().train_ll


@pytest.mark.parametrize("changes,exc,message", [
    ({"structure": "pd"}, ValueError, "structure='pd'"),
    ({"image_shape": (8,)}, ValueError, r"image_shape=\(8,\)"),
    ({"image_shape": (0, 8)}, ValueError, r"image_shape=\(0, 8\)"),
    ({"image_shape": (1, 1)}, ValueError, r"image_shape=\(1, 1\)"),
    ({"image_shape": (True, 4)}, ValueError, r"image_shape=\(True, 4\)"),
    ({"image_shape": "8x8"}, ValueError, "image_shape='8x8'"),
    ({"region_resolution": 0}, ValueError, "region_resolution=0"),
    ({"region_resolution": 1.5}, ValueError, "region_resolution=1.5"),
    ({"structure": "poon_domingos", "image_shape": (4, 16)}, ValueError,
     r"image_shape=\(4, 16\)"),
])
def test_bad_structure_settings_name_the_field(changes, exc, message):
    with pytest.raises(exc, match=message):
        SessionConfig.from_dict(changes)


def test_image_shape_round_trips_and_must_fit_the_data():
    config = SessionConfig.preset("poon_domingos", image_shape=[8, 8])
    assert config.image_shape == (8, 8) and config.structure == "poon_domingos"
    assert SessionConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"64 pixels.*image_shape=\(2, 3\)"):
        build_model(pd_config((2, 3)), 64, "em")
    with pytest.raises(ValueError, match="structure='custom'"):
        build_model(SessionConfig(structure="custom"), 64, "em")
