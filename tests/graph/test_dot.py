"""DOT text checked structurally: node and edge statements, labels, weights, tooltips, values,
the collapsed view, escaping and bad arguments."""
import re
from collections import Counter

import pytest

from spnlab.graph import (IndicatorLeaf, ParallelSums, Product, Sum, naive_bayes_mixture,
                          poon_domingos_example, random_spn, to_dot, topological_order)
from tests.graph.dot_parser import parse_dot, record_fields


@pytest.fixture
def pd():
    return poon_domingos_example()


def test_node_view_of_the_poon_domingos_example(pd):
    dot = parse_dot(to_dot(pd.root))
    assert list(dot.nodes) == ["X", "S11", "S21", "P1", "S12", "S22", "P2", "S"]
    labels = {name: attrs["label"] for name, attrs in dot.nodes.items()}
    assert [labels[n] for n in ("S11", "S12", "S21", "S22", "S")] == ["+"] * 5
    assert labels["P1"] == labels["P2"] == "×"
    assert {dot.nodes[n]["shape"] for n in ("S", "P1")} == {"circle"}
    assert dot.nodes["X"]["shape"] == "record"
    assert record_fields(dot.nodes["X"]["_raw_label"]) == ["X1=0", "X1=1", "X2=0", "X2=1"]
    assert len(dot.edges) == 4 * 2 + 2 * 2 + 2
    weighted = {(e.tail, e.head, e.head_port): e.attrs.get("label") for e in dot.edges}
    assert weighted[("S11", "X", "o0")] == "0.60" and weighted[("S11", "X", "o1")] == "0.40"
    assert weighted[("S22", "X", "o3")] == "0.80"
    assert weighted[("S", "P1", "")] == "0.70" and weighted[("S", "P2", "")] == "0.30"
    assert weighted[("P1", "S11", "")] is None and weighted[("P2", "S22", "")] is None
    widths = {(e.tail, e.head): float(e.attrs["penwidth"]) for e in dot.edges if e.tail == "S"}
    assert widths[("S", "P1")] > widths[("S", "P2")]
    assert dot.nodes["S11"]["tooltip"] == "S11 (Sum)\nscope: {X1}"
    assert dot.nodes["S"]["tooltip"] == "S (Sum)\nscope: {X1, X2}"
    assert "scope: {X1, X2}\n  output 0: {X1}" in dot.nodes["X"]["tooltip"]
    assert dot.defaults["graph"]["rankdir"] == "TB"


def test_weights_can_be_left_out_and_precision_chosen(pd):
    plain = parse_dot(to_dot(pd.root, weights=False))
    assert all("label" not in e.attrs for e in plain.edges)
    fine = parse_dot(to_dot(pd.root, precision=4))
    assert {e.attrs.get("label") for e in fine.edges if e.tail == "S"} == {"0.7000", "0.3000"}
    widths = parse_dot(to_dot(pd.root, weights="width"))
    root_edges = [e for e in widths.edges if e.tail == "S"]
    assert all("label" not in e.attrs for e in root_edges)
    assert sorted((e.attrs["tooltip"], float(e.attrs["penwidth"])) for e in root_edges) == \
        [("w = 0.30", 0.5 + 2.5 * 0.3), ("w = 0.70", 0.5 + 2.5 * 0.7)]


def test_values_and_signals_become_labels_and_fill_colours(pd):
    values = {"S": -1.5, "P1": -0.25, "P2": float("-inf")}
    dot = parse_dot(to_dot(pd.root, values=values))
    assert dot.nodes["S"]["label"] == "+\n-1.50" and dot.nodes["P1"]["label"] == "×\n-0.25"
    assert dot.nodes["P2"]["label"] == "×\n-inf" and "fillcolor" not in dot.nodes["P2"]
    assert dot.nodes["S"]["fillcolor"] == "#f7fbff" and dot.nodes["P1"]["fillcolor"] == "#08306b"
    assert dot.nodes["P1"]["fontcolor"] == "white" and "fillcolor" not in dot.nodes["S11"]
    assert "value: -1.5" in dot.nodes["S"]["tooltip"]
    assert "-1.50 (light) to -0.25 (dark)" in dot.defaults["graph"]["label"]
    both = parse_dot(to_dot(pd.root, values={"S": 1.0}, signals={pd.root: -0.5, "P1": 0.5}))
    assert both.nodes["S"]["label"] == "+\nv 1.00\ns -0.50"
    assert both.nodes["S"]["fillcolor"] == "#2166ac"  # signals fill (diverging): -0.5 = blue end
    assert both.nodes["P1"]["fillcolor"] == "#b2182b"
    leaf = parse_dot(to_dot(pd.root, values={"X": 0.0, "S": 1.0}))
    assert record_fields(leaf.nodes["X"]["_raw_label"])[-1] == "0.00"


def test_parallel_sums_and_latent_indicators_use_ports():
    ex = naive_bayes_mixture(2, 3)
    dot = parse_dot(to_dot(ex.root))
    assert record_fields(dot.nodes["S_X1"]["_raw_label"]) == ["+", "+", "+"]
    ports = Counter((e.tail, e.tail_port) for e in dot.edges if e.tail == "S_X1")
    assert ports == {("S_X1", "o0"): 2, ("S_X1", "o1"): 2, ("S_X1", "o2"): 2}
    assert {(e.head, e.head_port) for e in dot.edges if e.tail == "P3"} == {
        ("S_X1", "o2"), ("S_X2", "o2")}
    latent = parse_dot(to_dot(poon_domingos_example(latent=True).root))
    dashed = [e for e in latent.edges if e.attrs.get("style") == "dashed"]
    assert [(e.tail, e.head, e.head_port) for e in dashed] == [("S", "S_latent", "o0"),
                                                               ("S", "S_latent", "o1")]
    assert "scope: {X1, X2, Z_S}" in latent.nodes["S"]["tooltip"]


def test_names_are_quoted_and_escaped():
    x = IndicatorLeaf(1, 2, variables=['a|b{c}<d>"e\\f'], name='L "q" {x}')
    s = Sum(x, name='S"1\\')
    root = Product(s, name="P -> 1", )
    text = to_dot(root, names=True)
    dot = parse_dot(text)
    assert list(dot.nodes) == ['L "q" {x}', 'S"1\\', "P -> 1"]
    # names=True: the name is a first line / first record row.
    assert record_fields(dot.nodes['L "q" {x}']["_raw_label"]) == [
        'a|b{c}<d>"e\\f=0', 'a|b{c}<d>"e\\f=1', 'L "q" {x}']
    assert dot.nodes["P -> 1"]["label"] == "×\nP -> 1"
    assert dot.nodes['S"1\\']["label"] == '+\nS"1\\'
    assert [(e.tail, e.head) for e in dot.edges] == [('S"1\\', 'L "q" {x}')] * 2 + \
        [("P -> 1", 'S"1\\')]


def test_repeated_names_get_distinct_ids():
    x = IndicatorLeaf(1, 2, name="same")
    root = Sum(Sum(x, name="same"), name="same")
    dot = parse_dot(to_dot(root))
    assert list(dot.nodes) == ["same", "same#2", "same#3"]
    with pytest.raises(ValueError, match="ambiguous"):
        to_dot(root, values={"same": 1.0})


def test_collapsed_view_has_one_box_per_level(pd):
    dot = parse_dot(to_dot(pd.root, collapsed=True))
    assert list(dot.nodes) == ["level 3", "level 2", "level 1", "level 0"]
    labels = [dot.nodes[n]["label"].split("\n") for n in dot.nodes]
    assert labels == [["level 3", "1 node", "Sum 1"], ["level 2", "2 nodes", "Product 2"],
                      ["level 1", "4 nodes", "Sum 4"], ["level 0", "1 node", "IndicatorLeaf 1"]]
    assert {(e.tail, e.head): e.attrs["label"] for e in dot.edges} == {
        ("level 3", "level 2"): "2 edges", ("level 2", "level 1"): "4 edges",
        ("level 1", "level 0"): "8 edges"}
    assert "scope: {X1, X2}" in dot.nodes["level 2"]["tooltip"]
    valued = parse_dot(to_dot(pd.root, collapsed=True, values={"P1": 1.0, "P2": 3.0, "S": 0.0}))
    assert valued.nodes["level 2"]["label"].endswith("mean 2.00")
    assert "fillcolor" in valued.nodes["level 2"] and "fillcolor" not in valued.nodes["level 0"]


@pytest.mark.parametrize("seed", range(4))
def test_collapsed_counts_match_the_node_view(seed):
    root = random_spn(9, seed=seed, latent_root=seed % 2 == 1).root
    full = parse_dot(to_dot(root, split_leaves=False))
    collapsed = parse_dot(to_dot(root, collapsed=True))
    assert len(full.nodes) == len(topological_order(root))
    counts = [int(re.match(r"(\d+) node", a["label"].split("\n")[1]).group(1))
              for a in collapsed.nodes.values()]
    assert sum(counts) == len(full.nodes)
    edge_counts = [int(e.attrs["label"].split()[0]) for e in collapsed.edges]
    assert sum(edge_counts) == len(full.edges)
    sums = [n for n in topological_order(root) if isinstance(n, (Sum, ParallelSums))]
    weighted = [e for e in full.edges if "label" in e.attrs]
    assert len(weighted) == sum(n.num_sums * n.num_children for n in sums)


def test_several_roots_and_rankdir():
    a = IndicatorLeaf(1, 2, name="A")
    dot = parse_dot(to_dot([Product((a, 0), name="p"), Product((a, 1), name="q")], rankdir="LR"))
    assert list(dot.nodes) == ["A", "p", "q"] and dot.defaults["graph"]["rankdir"] == "LR"


@pytest.mark.parametrize("kwargs, error, text", [
    ({"values": {"nope": 1.0}}, ValueError, "unknown name: 'nope'"),
    ({"values": {"S": "high"}}, TypeError, "values['S']='high'"),
    ({"values": [1.0]}, TypeError, "values=[1.0]"),
    ({"signals": {3: 1.0}}, TypeError, "signals"),
    ({"weights": "yes"}, TypeError, "weights='yes'"),
    ({"weights": 1}, TypeError, "weights=1"),
    ({"collapsed": 1}, TypeError, "collapsed=1"),
    ({"fill": "red"}, ValueError, "fill='red'"),
    ({"precision": -1}, ValueError, "precision=-1"),
    ({"rankdir": "UP"}, ValueError, "rankdir='UP'"),
    ({"max_scope_vars": 1}, ValueError, "max_scope_vars=1"),
])
def test_bad_arguments(pd, kwargs, error, text):
    with pytest.raises(error) as info:
        to_dot(pd.root, **kwargs)
    assert text in str(info.value)
