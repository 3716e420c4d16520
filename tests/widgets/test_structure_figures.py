"""The structure views' figure functions against the learners' recorded decisions."""
import numpy as np
import pytest

from spnlab.structure import HCLT, LearnSPN
from spnlab.widgets.structure_figures import (clusters_figure, dependency_figure, leaf_figure,
                                               shown_rows, slice_figure, structure_curve_figure,
                                               tree_figure)


def _data(rows=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    dep = np.column_stack([z ^ (rng.random(rows) < 0.1) for _ in range(3)])
    return np.column_stack([dep, rng.integers(2, size=(rows, 2))]).astype(int)


@pytest.fixture(scope="module")
def decisions():
    data = _data()
    learner = LearnSPN(data, min_instances_slice=50)
    learner.learn()
    return data, learner.decisions


def _first(decisions, kind):
    return next(d for d in decisions if d.kind == kind)


def test_slice_picture_shows_the_slice_rows_grouped_by_cluster(decisions):
    data, ds = decisions
    split = _first(ds, "sum")
    fig = slice_figure(data, split, max_rows=1000)
    z = np.array(fig["data"][0]["z"])
    labels = split.details["labels"]
    order = np.argsort(labels, kind="stable")
    np.testing.assert_array_equal(z, data[np.ix_(split.rows[order], list(split.cols))])
    cuts = [s["y0"] for s in fig["layout"]["shapes"]]
    assert cuts == [np.sum(labels == 0) - 0.5]
    small = slice_figure(data, split, max_rows=50)
    assert len(small["data"][0]["z"]) == 50 and "(50 rows shown)" in \
        small["layout"]["title"]["text"]
    assert len(shown_rows(np.arange(7), max_rows=3)) == 3


def test_dependency_graph_draws_each_dependent_pair_coloured_by_component(decisions):
    _, ds = decisions
    product = ds[0]
    assert product.kind == "product"
    fig = dependency_figure(product)
    lines = [t for t in fig["data"] if t["mode"] == "lines"]
    dependent = product.details["dependent"]
    segments = sum(t["x"].count(None) for t in lines)          # one segment per pair
    assert segments == np.triu(dependent, 1).sum() == 3          # the three linked variables
    markers = fig["data"][-1]
    colours = dict(zip(markers["text"], markers["marker"]["color"]))
    assert colours["X1"] == colours["X2"] == colours["X3"] != colours["X4"] != colours["X5"]
    assert {t["line"]["color"] for t in lines} == {colours["X1"]}
    statistic = product.details["statistic"]
    top = max(statistic[i, j] for i, j in np.argwhere(np.triu(dependent, 1)))
    widths = sorted(1 + round(4 * statistic[i, j] / top)
                    for i, j in np.argwhere(np.triu(dependent, 1)))
    assert max(t["line"]["width"] for t in lines) == 5 == widths[-1]
    assert all("p = " in text for t in lines for text in t["text"] if text)
    with pytest.raises(ValueError, match="kind"):
        dependency_figure(_first(ds, "leaf"))


def test_clusters_and_leaf_figures_show_the_recorded_numbers(decisions):
    data, ds = decisions
    split = _first(ds, "sum")
    fig = clusters_figure(split)
    assert fig["data"][0]["y"] == [int(s) for s in split.details["sizes"]]
    np.testing.assert_allclose(fig["data"][1]["z"], split.details["centers"])
    leaf = _first(ds, "leaf")
    fig = leaf_figure(leaf)
    np.testing.assert_allclose(fig["data"][0]["y"], leaf.details["probabilities"][:, 1])
    rows = data[np.ix_(leaf.rows, list(leaf.cols))]
    np.testing.assert_allclose(fig["data"][0]["y"], (rows.sum(0) + 1) / (len(rows) + 2))
    with pytest.raises(ValueError, match="instance split"):
        clusters_figure(leaf)


def test_tree_figure_follows_the_hclt_steps():
    data = _data()
    hclt = HCLT(data, num_latent_states=2)
    first = hclt.step()
    second = hclt.step()
    tree = hclt.tree
    attached = [first.details["variable"], second.details["variable"]]
    fig = tree_figure(tree.parents, tree.mutual_information, attached=attached,
                      new=second.details["variable"])
    lines = [t for t in fig["data"] if t["mode"] == "lines"]
    assert len(lines) == 1 and lines[0]["line"]["color"] == "#d62728"
    assert f"{tree.mutual_information[attached[1], attached[0]]:.3g}" in lines[0]["text"]
    full = tree_figure(tree.parents, tree.mutual_information)
    assert len([t for t in full["data"] if t["mode"] == "lines"]) == 4


def test_curve_with_reference_line():
    fig = structure_curve_figure([(0, -3.5), (1, -3.5), (2, -3.1)], reference=-3.0)
    assert fig["data"][0]["x"] == [0, 1, 2] and fig["data"][0]["y"] == [-3.5, -3.5, -3.1]
    assert fig["layout"]["shapes"][0]["y0"] == -3.0


def test_every_figure_is_a_valid_plotly_figure(decisions):
    import plotly.graph_objects as go
    data, ds = decisions
    figures = [slice_figure(data, _first(ds, "sum")), dependency_figure(ds[0]),
               clusters_figure(_first(ds, "sum")), leaf_figure(_first(ds, "leaf")),
               structure_curve_figure([(0, -1.0)], reference=-0.5)]
    learner = LearnSPN(data, min_instances_slice=1000, leaves="chow_liu")
    figures.append(leaf_figure(learner.step()))
    for figure in figures:
        go.Figure(figure)                     # raises on any unknown property
