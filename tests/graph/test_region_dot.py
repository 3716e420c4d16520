"""The region overview: one box per sum node, edges to the regions its products combine,
crowded levels lumped into one counting box; checked against a hand-built graph and a random
SPN's structure found by a plain walk."""
import pytest

from spnlab.graph import (IndicatorLeaf, Product, Sum, poon_domingos_example, random_spn,
                          topological_order)
from spnlab.graph.region_dot import region_children, region_dot
from spnlab.graph.sums import BaseSum
from tests.graph.dot_parser import parse_dot


def test_poon_domingos_regions():
    pd = poon_domingos_example()
    dot = parse_dot(region_dot(pd.root, titles={"S": "S2 · root"}))
    assert set(dot.nodes) == {"S", "S11", "S12", "S21", "S22"}
    assert dot.nodes["S"]["label"] == "S2 · root\n1 sum, 2 vars"
    assert dot.nodes["S11"]["label"] == "S11\n1 sum, 1 vars"
    assert {(e.tail, e.head) for e in dot.edges} == {("S", "S11"), ("S", "S21"), ("S", "S12"),
                                                      ("S", "S22")}
    assert "scope: {X1, X2}" in dot.nodes["S"]["tooltip"]


@pytest.mark.parametrize("seed", range(3))
def test_random_spn_regions_match_a_walk_through_products(seed):
    root = random_spn(10, seed=seed).root
    sums = [n for n in topological_order(root) if isinstance(n, BaseSum)]
    dot = parse_dot(region_dot(root, max_per_level=10_000))
    assert set(dot.nodes) == {n.name for n in sums}
    expected = set()
    for node in sums:                  # a sum's regions: sums reached through products only
        stack = [c for c, _ in node.child_outputs]
        while stack:
            c = stack.pop()
            if isinstance(c, BaseSum):
                expected.add((node.name, c.name))
            elif c.is_op:
                stack += [g for g, _ in c.child_outputs]
    assert {(e.tail, e.head) for e in dot.edges} == expected


def test_a_crowded_level_is_one_box_with_the_count():
    x = IndicatorLeaf(30, 2, variables=[f"x{i}" for i in range(30)], name="X")
    cells = [Sum((x, [2 * v, 2 * v + 1]), name=f"c{v}") for v in range(30)]
    halves = [Sum(Product(*cells[:15]), name="left"), Sum(Product(*cells[15:]), name="right")]
    root = Sum(Product(*halves), name="root")
    dot = parse_dot(region_dot(root, max_per_level=24))
    assert set(dot.nodes) == {"root", "left", "right", "level 1"}
    assert dot.nodes["level 1"]["label"] == "30 regions (c0)\nscopes of 1 vars"
    assert {(e.tail, e.head, e.attrs.get("label")) for e in dot.edges} == {
        ("root", "left", None), ("root", "right", None), ("left", "level 1", "×15"),
        ("right", "level 1", "×15")}
    assert region_children(root) == halves


@pytest.mark.parametrize("kwargs, error, text", [
    ({"titles": ["S"]}, TypeError, "titles=['S']"),
    ({"max_per_level": 0}, ValueError, "max_per_level=0"),
])
def test_bad_arguments(kwargs, error, text):
    with pytest.raises(error) as info:
        region_dot(poon_domingos_example().root, **kwargs)
    assert text in str(info.value)
