"""The induced tree drawn in blue (`to_dot(highlight=...)`, `region_dot(highlight=...)`):
checked against trees worked out by hand on the Poon-Domingos example, and edge for edge
against the tree's own edges on random SPNs and a RAT-SPN's node graph."""
import numpy as np
import pytest

from spnlab.graph import (IndicatorLeaf, Product, Sum, poon_domingos_example, random_spn,
                          to_dot)
from spnlab.graph.dot import node_ids
from spnlab.graph.dot_highlight import FADED_COLOUR, TREE_COLOUR
from spnlab.graph.induced import InducedTree, induced_tree
from spnlab.graph.region_dot import region_dot
from spnlab.graph.render import LayoutCache
from tests.graph.dot_parser import parse_dot


def _blue(dot):
    """(outlined node ids, blue edges as (tail, tail port, head, head port), all edges)."""
    parsed = parse_dot(dot)
    nodes = {k for k, a in parsed.nodes.items() if a.get("color") == TREE_COLOUR}
    edges = {(e.tail, e.tail_port, e.head, e.head_port) for e in parsed.edges
             if e.attrs.get("color") == TREE_COLOUR}
    return nodes, edges, parsed.edges


@pytest.mark.parametrize("x, mask, product, x1, x2", [
    # p(x1=0, x2=0): P1 gives 0.7*0.6*0.3 = 0.126, P2 0.3*0.9*0.2 = 0.054
    ([0, 0], None, "P1", 0, 0),
    # x1=1, x2=0: P1 0.7*0.4*0.3 = 0.084, P2 0.3*0.1*0.2 = 0.006
    ([1, 0], None, "P1", 1, 0),
    # x1=0 observed, x2 hidden (MPE): P1 0.7*0.6*max(0.3, 0.7) = 0.294 (x2=1),
    # P2 0.3*0.9*max(0.2, 0.8) = 0.216
    ([0, 0], [True, False], "P1", 0, 1),
])
def test_the_mpe_tree_of_the_poon_domingos_example_is_drawn_in_blue(x, mask, product, x1, x2):
    spn = poon_domingos_example()
    tree = induced_tree(spn.root, x, mask)
    nodes, edges, all_edges = _blue(to_dot(spn.root, highlight=tree))
    s1, s2 = {"P1": ("S11", "S21"), "P2": ("S12", "S22")}[product]
    assert nodes == {"S", product, s1, s2, "X"}
    assert {(t, h) for t, _, h, _ in edges} == {("S", product), (product, s1), (product, s2),
                                                 (s1, "X"), (s2, "X")}
    # the leaf edges reach the indicator ports of the chosen values: X1 = x1 is output x1,
    # X2 = x2 output 2 + x2
    assert {hp for t, _, h, hp in edges if h == "X"} == {f"o{x1}", f"o{2 + x2}"}
    faded = [e for e in all_edges if e.attrs.get("color") != TREE_COLOUR]
    assert len(faded) == len(all_edges) - 5 and \
        all(e.attrs.get("color") == FADED_COLOUR for e in faded)
    assert all(float(e.attrs["penwidth"]) >= 3 for e in all_edges
               if e.attrs.get("color") == TREE_COLOUR)


def test_without_a_highlight_nothing_is_blue_or_faded():
    dot = to_dot(poon_domingos_example().root)
    assert TREE_COLOUR not in dot and FADED_COLOUR not in dot


@pytest.mark.parametrize("seed", range(6))
def test_every_tree_edge_and_no_other_is_blue_on_random_spns(seed):
    spn = random_spn(5, seed=seed, latent_root=seed % 2 == 1)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, 5)
    mask = rng.random(5) < 0.5
    for method in ("max_product", "hard_em"):
        tree = induced_tree(spn.root, x, mask, method)
        nodes, edges, _ = _blue(to_dot(spn.root, highlight=tree, split_leaves=False))
        expected = set()
        for (parent, out), (child, index) in tree.edges:
            head_port = "" if child.num_outputs == 1 else f"o{index}"
            tail_port = f"o{out}" if parent.num_outputs > 1 else ""
            expected.add((parent.name, tail_port, child.name, head_port))
        assert edges == expected
        assert nodes == {node.name for node, _ in tree.nodes}


def test_split_leaves_outline_the_chosen_variables_only():
    spn = random_spn(6, seed=3)
    x = np.array([1, 0, 1, 1, 0, 0])
    tree = induced_tree(spn.root, x)
    nodes, edges, _ = _blue(to_dot(spn.root, highlight=tree, split_leaves=True))
    leaf_pieces = {n for n in nodes if "/" in n}
    # every variable is in the tree once (a full row), so each variable's record is outlined
    assert len(leaf_pieces) == 6
    assert len([e for e in edges if "/" in e[2]]) == 6        # one blue edge into each
    # and the blue edge into it reaches the port of the observed value
    for t, _, head, port in edges:
        if "/" in head:
            leaf_name, var = head.split("/")
            v = [v.name for v in spn.variables].index(var)
            assert int(port[1:]) == 2 * v + x[v]


def test_the_region_overview_outlines_the_regions_the_tree_passes():
    spn = poon_domingos_example()
    tree = induced_tree(spn.root, [0, 1], None)     # P1: 0.7*0.6*0.7 vs P2: 0.3*0.9*0.8
    parsed = parse_dot(region_dot(spn.root, highlight=tree))
    outlined = {k for k, a in parsed.nodes.items() if a.get("color") == TREE_COLOUR}
    assert outlined == {"S", "S11", "S21"}
    colours = {(e.tail, e.head): e.attrs.get("color") for e in parsed.edges}
    assert colours == {("S", "S11"): TREE_COLOUR, ("S", "S21"): TREE_COLOUR,
                       ("S", "S12"): FADED_COLOUR, ("S", "S22"): FADED_COLOUR}


def test_a_bad_highlight_names_the_argument():
    for bad in ({"S"}, [("S", 0)], InducedTree({("S", 0)}, set(), {}, 0.0)):
        with pytest.raises(TypeError, match="highlight"):
            to_dot(poon_domingos_example().root, highlight=bad)


def test_repeated_names_are_told_apart_when_the_tree_is_of_the_drawn_graph():
    """Two sub-networks with the same node names: only the one the tree takes is blue."""
    leaf = IndicatorLeaf(2, 2, variables=["X1", "X2"], name="X")
    a1, b1 = Sum((leaf, [0, 1]), weights=[0.9, 0.1], name="A"), \
        Sum((leaf, [2, 3]), weights=[0.9, 0.1], name="B")
    a2, b2 = Sum((leaf, [0, 1]), weights=[0.1, 0.9], name="A"), \
        Sum((leaf, [2, 3]), weights=[0.1, 0.9], name="B")
    root = Sum(Product(a1, b1, name="P1"), Product(a2, b2, name="P2"), weights=[0.5, 0.5],
               name="S")
    tree = induced_tree(root, [0, 0])                        # P1: 0.5 * 0.81 > 0.5 * 0.01
    ids = node_ids(root)
    nodes, edges, _ = _blue(to_dot(root, highlight=tree))
    assert nodes == {"S", "P1", ids[a1], ids[b1], "X"}
    assert ids[a2] not in nodes and ids[a2] != ids[a1]
    assert {(t, h) for t, _, h, _ in edges} == {("S", "P1"), ("P1", ids[a1]),
                                                 ("P1", ids[b1]), (ids[a1], "X"),
                                                 (ids[b1], "X")}


def test_edges_without_weights_shown_keep_their_width():
    dot = parse_dot(to_dot(poon_domingos_example().root, weights=False))
    assert all("penwidth" not in e.attrs for e in dot.edges)


def test_moving_the_highlight_keeps_the_layout():
    """Only colours and widths change: the cached layout is reused."""
    spn = random_spn(5, seed=1)
    cache = LayoutCache(engine="wasm")
    cache.render(to_dot(spn.root, weights="width"))
    for row in ([0, 0, 0, 0, 0], [1, 1, 1, 1, 1]):
        svg = cache.render(to_dot(spn.root, weights="width",
                                  highlight=induced_tree(spn.root, row)))
        assert TREE_COLOUR in svg
    assert cache.layouts == 1
