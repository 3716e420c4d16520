"""The Graph tab of a RAT-SPN under hard EM: winner counts colour the edges (against the taps),
the legend gives their actual range, regions are named after the session's layers and their
scope, the "open" chooser lists them top-down by layer and scope, and an opened region draws
only the leaf variables of its scope."""
import re

import numpy as np
import pytest

from spnlab.graph import to_dot, topological_order
from spnlab.graph.sums import BaseSum
from spnlab.lab import Session
from spnlab.widgets import GraphView
from spnlab.lab.graph_names import focus_options, region_titles, scope_words
from tests.graph.dot_parser import parse_dot


@pytest.fixture(scope="module")
def view():
    session = Session("classroom", sum_op="hard_em", seed=0, test_every=0)
    session.run(2, progress=False)
    view = GraphView(session)
    yield view
    view.close()


def _walk_scope(node):
    """Variable names below `node` by a plain walk (independent of spnlab.graph.scope)."""
    found, stack = set(), [node]
    while stack:
        n = stack.pop()
        for child, index in n.child_outputs:
            if child.is_op:
                stack.append(child)
            else:
                found.add(child.variables[index // child.num_per_var].name)
    return found


def test_counts_colour_the_edges_with_the_tap_values_and_the_legend_spans_them(view):
    session = view.session
    view.signal.value = "counts"
    assert view.error.value == ""
    root = session.graph(None).graph.root
    s2 = next(l["name"] for l in session.layers if l["key"] == "S2")
    region = next(n for n in topological_order(root)
                  if (getattr(n, "origin", None) or ("",))[0] == s2)
    view.focus.value = region.name
    dot = parse_dot(view.dot())
    counts = session.node_signal("S2", "counts")                    # [S, D, I, O]
    _, s, d = region.origin
    expected = counts[s, d]                                          # [I, O]
    edges = [e for e in dot.edges if e.tail == region.name]
    assert len(edges) == region.num_sums * region.num_children
    k = 0
    for j in range(region.num_sums):                              # edges: per output, per child
        for i in range(region.num_children):
            assert edges[k].attrs["tooltip"].endswith(f"winner count = {expected[i, j] + 0.0:g}")
            k += 1
    # the legend's range is that of every drawn sum edge's count, from the taps directly
    drawn = []
    for node in topological_order(region):
        if isinstance(node, BaseSum):
            key = next(l["key"] for l in session.layers if l["name"] == node.origin[0])
            drawn.append(np.ravel(session.node_signal(key, "counts")[node.origin[1],
                                                                      node.origin[2]]))
    drawn = np.concatenate(drawn) + 0.0
    assert drawn.max() > drawn.min()                  # hard EM picks some children, not others
    assert f"{drawn.min():.2f}</span>" in view.legend.value
    assert f"{drawn.max():.2f}</span>" in view.legend.value
    assert "winner counts per edge" in view.legend.value
    colours = {e.attrs["color"] for e in dot.edges if "color" in e.attrs}
    assert "#cb181d" in colours and len(colours) >= 2
    view.focus.value = "whole model"
    view.signal.value = "forward"


def test_an_opened_region_draws_the_leaf_variables_of_its_scope(view):
    root = view.session.graph(None).graph.root
    for label, name in view.focus.options[1:40:7]:
        view.focus.value = name
        region = next(n for n in topological_order(root) if n.name == name)
        dot = parse_dot(view.dot())
        leaves = {n.split("/", 1)[1] for n in dot.nodes if "/" in n}
        assert leaves == _walk_scope(region), label
        assert scope_words(frozenset(v for v in region_scope(region))) in label
    view.focus.value = "whole model"


def region_scope(region):
    from spnlab.graph import get_scope
    return frozenset().union(*get_scope(region))


def test_regions_are_named_after_session_layers_and_listed_top_down(view):
    session = view.session
    root = session.graph(None).graph.root
    options = view.focus.options
    sums = [n for n in topological_order(root) if isinstance(n, BaseSum) and n is not root]
    assert options[0] == ("whole model", "whole model") and len(options) == 1 + len(sums)
    keys = [label.split(" · ")[0].split()[0] for label, _ in options[1:]]
    assert options[-1][0].startswith("S1 (leaves) · {x")          # the session's layer title
    order = [l["key"] for l in session.layers if l["kind"] == "sum"]
    ranks = [order.index(k) for k in keys]
    assert ranks == sorted(ranks, reverse=True) and keys[0] == "S3" and keys[-1] == "S1"
    for layer in ("S1", "S2"):
        firsts = [int(re.search(r"\{x(\d+)", label).group(1)) for label, _ in options[1:]
                  if label.startswith(layer + " ")]
        assert firsts == sorted(firsts)
    titles = region_titles(root, session.layers)
    s1 = next(n for n in sums if n.origin[0] == session.layers[1]["name"])
    assert titles[s1.name] == "S1 · {%s}" % next(iter(_walk_scope(s1)))
    label = parse_dot(to_dot(s1, titles=region_titles(s1, session.layers))).nodes[s1.name]
    assert label["_raw_label"].startswith("{S1 · \\{x")
    assert focus_options(s1, session.layers) == []


def test_scope_words():
    from spnlab.graph import IndicatorLeaf
    leaf = IndicatorLeaf(5, 2, variables=[f"x{i}" for i in range(5)])
    assert scope_words(frozenset(leaf.variables[:2])) == "{x0, x1}"
    assert scope_words(frozenset(leaf.variables)) == "{x0 … x4} 5 vars"


def test_a_large_model_opens_on_its_region_graph_and_a_chosen_region_on_its_nodes(view):
    session = view.session
    root = session.graph(None).graph.root
    view.focus.value = "whole model"
    assert view.draw.value == "auto"
    dot = parse_dot(view.dot())
    sums = [n for n in topological_order(root) if isinstance(n, BaseSum)]
    by_layer = {}
    for n in sums:
        by_layer.setdefault(n.origin[0], []).append(n.name)
    # S4 (root) 1, S3 2, S2 4 regions drawn as boxes; the 128 S1 regions as one counting box
    boxes = {name for names in by_layer.values() if len(names) <= 8 for name in names}
    assert len(boxes) == 7 and set(dot.nodes) == boxes | {"level 1"}
    s1 = by_layer[session.layers[1]["name"]]
    assert dot.nodes["level 1"]["label"].startswith(f"{len(s1)} regions (S1)")
    assert dot.nodes[root.name]["label"].startswith("S4 · {x0 … x63} 64 vars")
    assert "regions" in view.info.value and "dashed box" in view.legend.value
    region = next(n for n in sums if n.name in by_layer[session.layers[4]["name"]])  # an S2
    view.svg._on_message(view.svg, {"click": "level 1"}, [])      # the lumped box: no region
    assert view.focus.value == "whole model"
    view.svg._on_message(view.svg, {"click": region.name}, [])    # a click in the browser
    assert view.focus.value == region.name
    view.svg._on_message(view.svg, {"click": "indicator_leaf/x3",
                                    "tooltip": "indicator_leaf (IndicatorLeaf), variable x3"}, [])
    assert view.focus.value == region.name
    assert "variable x3</pre>" in view.details.value
    opened = parse_dot(view.dot())
    assert region.name in opened.nodes and len(opened.nodes) == (
        len([n for n in topological_order(region) if n.is_op]) + len(_walk_scope(region)))
    view.focus.value = "whole model"
    view.draw.value = "nodes"
    assert len([n for n in parse_dot(view.dot()).nodes if "/" in n]) == 64     # 64 pixels
    view.draw.value = "auto"


def test_hand_built_graph_counts_follow_the_induced_trees():
    """Hard EM on the Poon-Domingos example: every sample's tree takes one root edge, and the
    samples through product P1 are those its sums S11 and S21 count (flow is conserved)."""
    session = Session("example", sum_op="hard_em", seed=0, test_every=0)
    session.run(2, progress=False)
    view = GraphView(session)
    view.signal.value = "counts"
    dot = parse_dot(view.dot())
    counts = {}
    for e in dot.edges:
        found = re.search(r"winner count = (-?[\d.e+]+)", e.attrs.get("tooltip", ""))
        if found:
            counts.setdefault(e.tail, {})[e.head] = counts.get(e.tail, {}).get(e.head, 0) + \
                float(found.group(1))
    assert sum(counts["S"].values()) == session.config.batch_size
    for product, sums in (("P1", ("S11", "S21")), ("P2", ("S12", "S22"))):
        for name in sums:
            assert sum(counts[name].values()) == counts["S"][product], (product, name)
    assert "-0" not in " ".join(e.attrs.get("tooltip", "") for e in dot.edges)
    view.close()


def test_small_graphs_show_weights_as_numbers():
    session = Session("example", seed=0, test_every=0)
    view = GraphView(session)
    dot = parse_dot(view.dot())
    root = session.graph(None).graph.root
    weighted = [e for e in dot.edges if e.tail == root.name]
    assert sorted(float(e.attrs["label"]) for e in weighted) == pytest.approx(
        sorted(root.weight_values[0]), abs=0.005)
    view.close()


def test_a_region_too_big_for_its_nodes_opens_on_its_regions():
    session = Session("poon_domingos", seed=0, test_every=0)
    view = GraphView(session)
    label, name = view.focus.options[1]                    # a top region: 560 nodes
    view.focus.value = name
    region = next(n for n in topological_order(session.graph(None).graph.root) if n.name == name)
    assert len(topological_order(region)) > 400
    dot = parse_dot(view.dot())
    assert name in dot.nodes and dot.nodes[name]["label"].startswith(label.split(" · [")[0])
    assert all(n == name or n.startswith("level ") or n in {
        c.name for c in topological_order(region)} for n in dot.nodes)
    view.close()
