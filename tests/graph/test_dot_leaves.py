"""Leaves drawn per variable: one record per variable of the drawn sub-SPN's scope, each edge
to the right variable's record and output port, checked against scopes found by a plain walk."""
from collections import Counter

import pytest

from spnlab.graph import (IndicatorLeaf, Product, Sum, poon_domingos_example, random_spn, to_dot,
                          topological_order)
from spnlab.graph.sums import BaseSum
from tests.graph.dot_parser import parse_dot, record_fields


def _walk_scope(root):
    """Variable names below `root`, by a depth-first walk over `child_outputs` (independent of
    `spnlab.graph.scope` and of the drawing)."""
    found, stack, seen = set(), [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child, index in node.child_outputs:
            if child.is_op:
                stack.append(child)
            else:
                found.add(child.variables[index // child.num_per_var].name)
    return found


def _leaf_edges(root):
    """`Counter((parent name, leaf output index))` over every sum/product -> leaf edge,
    one per sum output for sums."""
    edges = Counter()
    for node in topological_order(root):
        if not node.is_op:
            continue
        repeat = node.num_sums if isinstance(node, BaseSum) else 1
        for child, index in node.child_outputs:
            if not child.is_op:
                edges[node.name, child.name, index] += repeat
    return edges


@pytest.mark.parametrize("seed", range(3))
def test_each_region_draws_the_leaf_variables_of_its_scope(seed):
    ex = random_spn(20, seed=seed)                  # X: 20 variables x 2 values = 40 outputs
    regions = [n for n in topological_order(ex.root) if isinstance(n, BaseSum)]
    assert len(regions) > 5
    for region in regions:
        dot = parse_dot(to_dot(region))
        scope = _walk_scope(region)
        pieces = {name for name in dot.nodes if name.startswith("X/")}
        assert pieces == {f"X/{v}" for v in scope}, region.name
        assert "X" not in dot.nodes
        drawn = Counter()
        for e in dot.edges:
            if e.head.startswith("X/"):
                index = int(e.head_port[1:])
                # the port is the leaf's output index; its variable is the record's variable
                assert ex.variables[index // 2].name == e.head[2:], (e, region.name)
                drawn[e.tail, "X", index] += 1
        assert drawn == _leaf_edges(region), region.name


def test_a_variable_record_shows_its_values_and_the_whole_model_every_variable():
    ex = random_spn(12, seed=4)
    dot = parse_dot(to_dot(ex.root))
    assert sorted(n for n in dot.nodes if n.startswith("X/")) == sorted(
        f"X/{v.name}" for v in ex.variables)
    x3 = dot.nodes["X/X3"]
    assert record_fields(x3["_raw_label"]) == ["X3", "0", "1"]
    assert "<o4> 0|<o5> 1" in x3["_raw_label"]               # X3 = variable 2: outputs 4, 5
    assert x3["tooltip"] == "X (IndicatorLeaf), variable X3\noutputs: X3=0, X3=1"
    whole = parse_dot(to_dot(ex.root, split_leaves=False))
    assert "X" in whole.nodes and not any(n.startswith("X/") for n in whole.nodes)
    assert len(whole.edges) == len(dot.edges)


def test_normal_leaves_give_one_field_per_component():
    one = random_spn(10, seed=1, leaf="normal", num_components=1)
    dot = parse_dot(to_dot(one.root))
    assert record_fields(dot.nodes["N/X2"]["_raw_label"]) == ["N(X2)"]
    two = random_spn(10, seed=1, leaf="normal", num_components=2)
    dot = parse_dot(to_dot(two.root))
    assert record_fields(dot.nodes["N/X2"]["_raw_label"]) == ["X2", "N0", "N1"]
    assert len([n for n in dot.nodes if n.startswith("N/")]) == 10


def test_auto_keeps_small_leaves_whole_and_true_splits_them():
    pd = poon_domingos_example()                   # X: 2 variables x 2 values, 4 outputs
    assert "X" in parse_dot(to_dot(pd.root)).nodes
    split = parse_dot(to_dot(pd.root, split_leaves=True))
    assert {n for n in split.nodes if n.startswith("X/")} == {"X/X1", "X/X2"}
    s11 = next(n for n in topological_order(pd.root) if n.name == "S11")    # scope {X1}
    left = parse_dot(to_dot(s11, split_leaves=True))
    assert [n for n in left.nodes if n.startswith("X/")] == ["X/X1"]


def test_leaf_values_label_and_colour_every_piece():
    x = IndicatorLeaf(10, 2, variables=[f"X{v + 1}" for v in range(10)], name="L")
    root = Product(*(Sum((x, [2 * v, 2 * v + 1]), name=f"S{v}") for v in range(3)), name="P")
    dot = parse_dot(to_dot(root, values={"L": -1.0, "P": 0.0}))
    pieces = [n for n in dot.nodes if n.startswith("L/")]
    assert pieces == ["L/X1", "L/X2", "L/X3"]               # 3 of the leaf's 10 variables
    assert {dot.nodes[p]["fillcolor"] for p in pieces} == {"#f7fbff"}    # the lowest value
    assert dot.nodes["P"]["fillcolor"] == "#08306b"
    assert {record_fields(dot.nodes[p]["_raw_label"])[-1] for p in pieces} == {"-1.00"}


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_bad_split_leaves(bad):
    with pytest.raises(ValueError, match="split_leaves="):
        to_dot(poon_domingos_example().root, split_leaves=bad)
