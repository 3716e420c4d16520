"""Explicit traversals: order, upward computation, cycles, deep chains and large graphs."""
from typing import NamedTuple

import pytest

from spnlab.graph import (GraphCycleError, IndicatorLeaf, Product, Sum, compute_graph_up,
                          get_scope, graph_weights, is_valid, node_heights, poon_domingos_example,
                          to_dot, topological_order, validate)


def _assert_inputs_first(order):
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for inp in node.all_inputs:
            assert position[inp.node] < position[node], (inp.node, node)


def test_topological_order_of_the_poon_domingos_example():
    root = poon_domingos_example().root
    names = [n.name for n in topological_order(root)]
    assert names == ["X", "S11", "S21", "P1", "S12", "S22", "P2", "S"]
    assert [n.name for n in topological_order([root, root])] == names
    heights = node_heights(root)
    assert {n.name: h for n, h in heights.items()} == {
        "X": 0, "S11": 1, "S21": 1, "S12": 1, "S22": 1, "P1": 2, "P2": 2, "S": 3}
    assert [w.name for w in graph_weights(root)] == [
        "S11_weights", "S21_weights", "S12_weights", "S22_weights", "S_weights"]


def test_several_roots_share_their_subgraph():
    leaf = IndicatorLeaf(1, 2)
    shared = Sum(leaf)
    a, b = Product(shared), Product(shared, name="b")
    order = topological_order([a, b])
    assert order == [leaf, shared, a, b]


def test_latent_indicators_are_visited_before_their_sum():
    ex = poon_domingos_example(latent=True)
    order = topological_order(ex.root)
    latent = ex.root.latent_indicators.node
    assert order.index(latent) < order.index(ex.root) and len(order) == 9
    _assert_inputs_first(order)


class Count(NamedTuple):
    nodes: int   # nodes in the tree unfolding of the graph below (paths, not distinct nodes)
    leaves: int


def test_compute_graph_up_passes_input_values_in_input_order():
    root = poon_domingos_example().root
    seen = {}

    def fn(node, inputs):
        seen[node.name] = [i.nodes for i in inputs]
        return Count(1 + sum(i.nodes for i in inputs), sum(i.leaves for i in inputs) or 1)

    values = compute_graph_up(root, fn)
    assert values[root] == Count(nodes=1 + 2 * (1 + 2 * 2), leaves=4)
    assert seen["S"] == [5, 5] and seen["S11"] == [1] and seen["X"] == []
    assert list(values) == topological_order(root)


def test_cycles_are_an_explicit_error():
    leaf = IndicatorLeaf(1, 2)
    p = Product(leaf, name="P1")
    s = Sum(p, name="S1")
    p.set_inputs(s)
    with pytest.raises(GraphCycleError) as info:
        topological_order(s)
    assert [n.name for n in info.value.cycle] == ["S1", "P1", "S1"]
    assert "cycle: 'S1' -> 'P1' -> 'S1'" in str(info.value)
    report = validate(s)
    assert [v.kind for v in report] == ["cycle"] and not is_valid(s)
    with pytest.raises(ValueError, match="cycle"):
        get_scope(s)


def test_bad_roots_are_rejected():
    with pytest.raises(TypeError, match=r"roots\[1\]=3"):
        topological_order([Sum(), 3])
    with pytest.raises(ValueError, match="roots=()"):
        topological_order([])
    with pytest.raises(TypeError, match="roots=None"):
        topological_order(None)
    with pytest.raises(TypeError, match="fn=3"):
        compute_graph_up(Sum(), 3)
    with pytest.raises(TypeError, match="node='S'"):
        get_scope("S")


def test_chain_of_5000_products():
    leaf = IndicatorLeaf(1, 2, variables=["A"])
    chain = [Product((leaf, 0))]
    for _ in range(4999):
        chain.append(Product(chain[-1]))
    order = topological_order(chain[-1])
    assert order == [leaf] + chain
    assert node_heights(chain[-1])[chain[-1]] == 5000
    assert get_scope(chain[-1]) == (frozenset(leaf.variables),)
    assert is_valid(chain[-1])
    collapsed = to_dot(chain[-1], collapsed=True)
    assert collapsed.count("level 5000") >= 1 and "level 5001" not in collapsed


def _graph_of_50000_nodes():
    """1000 variables; per variable a chain of 49 sums (the first over the variable's two
    indicators, each next one over the previous sum and an indicator); the 1000 chain tops are
    combined by a balanced tree of 999 products. 1 + 49000 + 999 = 50000 nodes, valid."""
    leaf = IndicatorLeaf(1000, 2, name="X")
    tops = []
    for v in range(1000):
        s = Sum((leaf, [2 * v, 2 * v + 1]))
        for _ in range(48):
            s = Sum(s, (leaf, 2 * v + 1))
        tops.append(s)
    level = tops
    while len(level) > 1:
        paired = [Product(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return leaf, level[0]


def test_graph_of_50000_nodes():
    leaf, root = _graph_of_50000_nodes()
    order = topological_order(root)
    assert len(order) == 50_000 and len(set(order)) == 50_000
    assert order[0] is leaf and order[-1] is root
    _assert_inputs_first(order)
    assert node_heights(root)[root] == 49 + 10  # 49 sums, then 10 product levels (1000 -> 1)
    assert get_scope(root) == (frozenset(leaf.variables),)
    assert validate(root).is_valid
