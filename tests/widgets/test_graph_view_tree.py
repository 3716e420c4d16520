"""The Graph view's induced tree and node details: the hand-built example's trees worked out
from its weights by hand, a RAT-SPN's tree checked for what an induced tree must be (at each
region level the outlined regions partition the variables), and a clicked sum's details
against its weights and the hard-EM counts (which sum to the batch size at the root)."""
import math
import re

import numpy as np
import pytest

from spnlab.graph import topological_order
from spnlab.graph.dot_highlight import TREE_COLOUR
from spnlab.graph.scope import get_scopes
from spnlab.graph.sums import BaseSum
from spnlab.lab import Session
from spnlab.widgets import GraphView
from tests.graph.dot_parser import parse_dot


def _blue(dot):
    parsed = parse_dot(dot)
    return ({k for k, a in parsed.nodes.items() if a.get("color") == TREE_COLOUR},
            {(e.tail, e.head) for e in parsed.edges if e.attrs.get("color") == TREE_COLOUR})


def _nodes(session):
    return {n.name: n for n in topological_order(session.graph(None).graph.root)}


def _by_hand(nodes, x):
    """Per product k of the root S = w1 P1 + w2 P2, P1 = S11 S21, P2 = S12 S22 over
    indicators of X1, X2: w_k * S1k[x1] * S2k[x2]."""
    w = nodes["S"].weight_values[0]
    return [w[k] * nodes[f"S1{k + 1}"].weight_values[0][x[0]]
            * nodes[f"S2{k + 1}"].weight_values[0][x[1]] for k in range(2)]


@pytest.fixture(scope="module")
def example():
    session = Session("example", sum_op="hard_em", seed=0, test_every=0)
    session.run(3, progress=False)
    view = GraphView(session)
    yield session, view
    view.close()


@pytest.mark.parametrize("row", [0, 1, 2])
def test_the_example_mpe_tree_is_the_best_product_by_hand(example, row):
    session, view = example
    view.tree.value, view.tree_mask.value, view.tree_row.value = "max_product", "none", row
    x = session.data.test[row]
    terms = _by_hand(_nodes(session), x)
    k = int(np.argmax(terms)) + 1
    nodes, edges = _blue(view.dot())
    assert edges == {("S", f"P{k}"), (f"P{k}", f"S1{k}"), (f"P{k}", f"S2{k}"), (f"S1{k}", "X"),
                     (f"S2{k}", "X")}
    assert nodes == {"S", f"P{k}", f"S1{k}", f"S2{k}", "X"}
    shown = float(re.search(r"MPE log p (-?[\d.]+) nats", view.tree_info.value).group(1))
    assert shown == pytest.approx(math.log(max(terms)), abs=0.006)
    assert f"MPE&#x27;s induced tree of test row {row}" in view.legend.value


def test_the_example_hard_em_tree_shows_log_p_of_the_row(example):
    session, view = example
    view.tree.value, view.tree_mask.value, view.tree_row.value = "hard_em", "none", 1
    x = session.data.test[1]
    terms = _by_hand(_nodes(session), x)
    shown = float(re.search(r"log p\(evidence\) (-?[\d.]+) nats", view.tree_info.value).group(1))
    assert shown == pytest.approx(math.log(sum(terms)), abs=0.006)
    assert shown == pytest.approx(float(session.log_likelihood(x[None])[0]), abs=0.006)
    # with every variable observed, hard EM's pick is the product with the larger term
    k = int(np.argmax(terms)) + 1
    assert ("S", f"P{k}") in _blue(view.dot())[1]


def test_hiding_a_variable_makes_the_mpe_tree_fill_it_in(example):
    session, view = example
    view.tree.value, view.tree_mask.value, view.tree_row.value = "max_product", "all", 0
    nodes = _nodes(session)
    # nothing observed: max over products and both values of each variable
    best = max(nodes["S"].weight_values[0][k]
               * max(nodes[f"S1{k + 1}"].weight_values[0])
               * max(nodes[f"S2{k + 1}"].weight_values[0]) for k in range(2))
    shown = float(re.search(r"MPE log p (-?[\d.]+) nats", view.tree_info.value).group(1))
    assert shown == pytest.approx(math.log(best), abs=0.006)


def test_a_clicked_sum_shows_its_weights_counts_and_the_tree_choice(example):
    session, view = example
    view.tree.value, view.tree_mask.value, view.tree_row.value = "max_product", "none", 0
    view.signal.value = "counts"
    view.refresh()
    root = _nodes(session)["S"]
    details = view.node_details(view._drawn["S"])
    np.testing.assert_allclose(details.weights, root.weight_values, atol=1e-6)
    assert details.children == ("P1", "P2")
    assert details.counts.sum() == session.config.batch_size      # one tree per sample
    k = int(np.argmax(_by_hand(_nodes(session), session.data.test[0])))
    assert details.chosen == {0: k}
    assert details.value is not None and details.value <= 0     # a mean log-probability
    view._open("S")
    html = view.details.value
    assert f"{root.weight_values[0][k]:.3f}" in html and TREE_COLOUR in html
    assert "scope {X1, X2}" in html
    view._open("X/X1")                                          # a leaf's variable record
    assert "IndicatorLeaf" in view.details.value and "weight" not in view.details.value
    view.signal.value, view.tree.value = "forward", None


def test_a_rat_spn_tree_outlines_one_partition_of_the_variables_per_region_level():
    session = Session("classroom", seed=0, test_every=0)
    session.run(2, progress=False)
    view = GraphView(session)
    view.tree.value, view.tree_mask.value = "max_product", "bottom"
    parsed = parse_dot(view.dot())
    outlined = [k for k, a in parsed.nodes.items() if a.get("color") == TREE_COLOUR]
    root = session.graph(None).graph.root
    nodes = {n.name: n for n in topological_order(root)}
    scopes = get_scopes(root)
    by_level = {}
    for name in outlined:
        if name.startswith("level "):                 # the lumped S1 level: on the tree
            continue
        node = nodes[name]
        assert isinstance(node, BaseSum)
        title = view._titles[name].split(" · ")[0]        # "S3"
        by_level.setdefault(title, []).append(frozenset().union(*scopes[node]))
    all_vars = frozenset(v for s in scopes[root] for v in s)
    assert set(by_level) == {"S4", "S3", "S2"}
    for title, found in by_level.items():
        assert sum(len(s) for s in found) == len(all_vars) == 64, title      # disjoint
        assert frozenset().union(*found) == all_vars, title                 # and complete
    assert "level 1" in outlined
    # opening a region off the tree says so
    off = next(v for _, v in view.focus.options[1:] if v not in outlined)
    view.focus.value = off
    view.refresh()
    assert "does not pass this region" in view.tree_info.value
    view.close()


def test_node_details_name_bad_arguments():
    from spnlab.graph import poon_domingos_example
    from spnlab.lab.node_details import node_details
    root = poon_domingos_example().root
    with pytest.raises(TypeError, match="`node`"):
        node_details("S")
    with pytest.raises(TypeError, match="`value`"):
        node_details(root, value="abc")
    with pytest.raises(ValueError, match=r"`counts` of the weights' shape \(1, 2\)"):
        node_details(root, counts=np.ones((2, 2)))
    with pytest.raises(TypeError, match="`tree`"):
        node_details(root, tree=object())


def test_unweighted_hard_em_sessions_get_the_unweighted_tree():
    session = Session("example", sum_op="unweighted_hard_em", seed=0, test_every=0)
    session.run(2, progress=False)
    view = GraphView(session)
    view.tree.value, view.tree_mask.value = "hard_em", "none"
    assert "unweighted hard-EM step" in view.legend.value
    x = session.data.test[view.tree_row.value]
    nodes = _nodes(session)
    # unweighted: the product whose children's values are larger, whatever the root weights
    k = int(np.argmax([nodes[f"S1{k + 1}"].weight_values[0][x[0]]
                       * nodes[f"S2{k + 1}"].weight_values[0][x[1]] for k in range(2)])) + 1
    assert ("S", f"P{k}") in _blue(view.dot())[1]
    view.close()


def test_a_failing_tree_is_shown_beside_the_chooser_and_the_drawing_goes_on(monkeypatch):
    session = Session("example", seed=0, test_every=0)
    view = GraphView(session)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(session, "induced_tree", broken)
    view.tree.value = "max_product"
    assert "no tree: RuntimeError: boom" in view.tree_info.value
    assert parse_dot(view.dot()).nodes and view.error.value == ""
    view.close()
