"""The drawing's legend and per-edge colours: the scales span exactly the values drawn, edge
colours follow per-edge values (e.g. hard-EM winner counts) and bad arguments are named."""
import html
import numpy as np
import pytest

from spnlab.graph import naive_bayes_mixture, poon_domingos_example, to_dot, topological_order
from spnlab.graph.legend import graph_legend, legend_html
from spnlab.graph.sums import BaseSum
from tests.graph.dot_parser import parse_dot


def _hex(rgb):
    return "#%02x%02x%02x" % rgb


def test_node_scale_spans_the_values_and_says_what_they_are():
    values = {"S": -3.25, "P1": -0.5, "P2": -1.0, "S11": float("-inf")}
    legend = graph_legend(values, "forward value: log p, nats")
    scale = legend.node_scale
    assert (scale.low, scale.high) == (-3.25, -0.5) and not scale.diverging
    dot = parse_dot(to_dot(poon_domingos_example().root, values=values))
    # the colours of the extremes are those the drawing gives the nodes holding them
    assert (scale.low_colour, scale.high_colour) == (dot.nodes["S"]["fillcolor"],
                                                     dot.nodes["P1"]["fillcolor"])
    text = legend_html(legend)
    assert "forward value: log p, nats" in text and "-3.25" in text and "-0.50" in text
    assert "edge width: sum weight" in text and legend.edge_scale is None
    assert [s for s, _ in legend.shapes] == ["circle +", "circle ×", "box X3 | 0 | 1"]


def test_both_signs_give_a_diverging_scale_around_zero():
    legend = graph_legend([-0.2, 0.8, 0.1], "backward signal")
    s = legend.node_scale
    assert s.diverging and (s.low, s.high) == (-0.2, 0.8)
    assert (s.low_colour, s.high_colour) == ("#2166ac", "#b2182b")
    text = legend_html(legend)
    assert "-0.80" in text and "+0.80" in text and "present: -0.20 … 0.80" in text


def test_edge_colours_follow_per_edge_values_and_the_legend_gives_their_range():
    ex = naive_bayes_mixture(3, 2)
    sums = [n for n in topological_order(ex.root) if isinstance(n, BaseSum)]
    rng = np.random.default_rng(0)
    counts = {n.name: rng.integers(0, 20, size=(n.num_sums, n.num_children)).astype(float)
              for n in sums}
    everything = np.concatenate([c.ravel() for c in counts.values()])
    low, high = everything.min(), everything.max()
    dot = parse_dot(to_dot(ex.root, edge_values=counts, edge_label="winner counts"))
    legend = graph_legend(edge_values=counts, edge_quantity="winner counts per edge, last step")
    assert (legend.edge_scale.low, legend.edge_scale.high) == (low, high)
    assert (legend.edge_scale.low_colour, legend.edge_scale.high_colour) == ("#cccccc", "#cb181d")
    checked = 0
    for node in sums:
        edges = [e for e in dot.edges if e.tail == node.name]
        # edges are written per sum output j, then per child i
        expected = [counts[node.name][j, i] for j in range(node.num_sums)
                    for i in range(node.num_children)]
        for edge, value in zip(edges, expected, strict=True):
            assert f"winner counts = {value:g}" in edge.attrs["tooltip"]
            t = (value - low) / (high - low)
            rgb = tuple(round(a + (b - a) * t) for a, b in zip((204, 204, 204), (203, 24, 29)))
            assert edge.attrs["color"] == _hex(rgb)
            checked += 1
    assert checked == sum(n.num_sums * n.num_children for n in sums)
    assert "edge colour: winner counts from" in dot.defaults["graph"]["label"]
    assert "winner counts per edge, last step" in legend_html(legend)


@pytest.mark.parametrize("kwargs, error, text", [
    ({"edge_values": [1.0]}, TypeError, "edge_values=[1.0]"),
    ({"edge_values": {"nope": [[1.0]]}}, ValueError, "'nope'"),
    ({"edge_values": {"P1": [[1.0]]}}, ValueError, "'P1'"),
    ({"edge_values": {"S": [[1.0, 2.0, 3.0]]}}, ValueError, "shape=(1, 3)"),
    ({"edge_label": 3}, TypeError, "edge_label=3"),
])
def test_bad_edge_arguments(kwargs, error, text):
    with pytest.raises(error) as info:
        to_dot(poon_domingos_example().root, **kwargs)
    assert text in str(info.value)


def test_bad_legend_arguments():
    with pytest.raises(TypeError, match="node_quantity=3"):
        graph_legend([1.0], 3)
    with pytest.raises(TypeError, match="values"):
        graph_legend(["high"])
    with pytest.raises(TypeError, match="legend="):
        legend_html("legend")


def test_equal_edge_values_are_all_grey():
    """A region no sample reached has only zero counts: nothing stands out."""
    ex = poon_domingos_example()
    zeros = {"S": [[0.0, 0.0]]}
    dot = parse_dot(to_dot(ex.root, edge_values=zeros))
    assert {e.attrs["color"] for e in dot.edges if e.tail == "S"} == {"#cccccc"}
    legend = graph_legend(edge_values=zeros)
    assert (legend.edge_scale.low_colour, legend.edge_scale.high_colour) == ("#cccccc",) * 2


def test_the_tree_line_says_what_the_blue_part_is():
    legend = graph_legend(tree="the MPE's induced tree of test row 3")
    assert legend.tree == "the MPE's induced tree of test row 3"
    text = legend_html(legend)
    assert "induced tree of test row 3" in html.unescape(text) and "#1565c0" in text
    assert "blue" not in legend_html(graph_legend())
    with pytest.raises(TypeError, match="tree"):
        graph_legend(tree=3)
