"""The induced tree of one sample against brute force: every induced tree of small SPNs
enumerated (max-product), and each sum's choice against the network polynomial evaluated by
plain recursion (hard EM)."""
import itertools

import numpy as np
import pytest

from spnlab.graph import naive_bayes_mixture, poon_domingos_example, random_spn
from spnlab.graph.induced import induced_tree, induced_tree_names
from spnlab.graph.queries import as_model
from spnlab.graph.sums import BaseSum


def _leaf_value(node, out, row, columns):
    """An indicator output's value: [x_v = k] when X_v is observed, else 1."""
    var, k = node.output_variable(out), out % node.num_per_var
    col = columns.get(var)
    return 1.0 if col is None or row[col] is None else float(row[col] == k)


def _picks(node, out):
    children = [[c] for c in node.child_outputs]
    latent = node.latent_indicators
    if latent is not None:
        n = len(children)
        for i, pick in enumerate(children):
            pick.append((latent.node, latent.indices[out * n + i]))
    return children


def _all_trees(node, out, row, columns):
    """[(value, edges)] of every induced tree below (node, out), by plain enumeration."""
    if not node.is_op:
        return [(_leaf_value(node, out, row, columns), frozenset())]
    if isinstance(node, BaseSum):
        result = []
        for i, pick in enumerate(_picks(node, out)):
            w = node.weight_values[out][i]
            for parts in itertools.product(*[_all_trees(c, k, row, columns) for c, k in pick]):
                value = w * np.prod([p[0] for p in parts])
                edges = frozenset().union(*[p[1] for p in parts],
                                          {((node, out), child) for child in pick})
                result.append((value, edges))
        return result
    result = []
    for parts in itertools.product(*[_all_trees(c, k, row, columns)
                                     for c, k in node.child_outputs]):
        edges = frozenset().union(*[p[1] for p in parts],
                                  {((node, out), child) for child in node.child_outputs})
        result.append((np.prod([p[0] for p in parts]), edges))
    return result


def _polynomial(node, out, row, columns, cache):
    """The network polynomial's value at (node, out) by recursion (sums of evidence)."""
    key = (node, out)
    if key not in cache:
        if not node.is_op:
            cache[key] = _leaf_value(node, out, row, columns)
        elif isinstance(node, BaseSum):
            cache[key] = sum(node.weight_values[out][i] * np.prod(
                [_polynomial(c, k, row, columns, cache) for c, k in pick])
                for i, pick in enumerate(_picks(node, out)))
        else:
            cache[key] = np.prod([_polynomial(c, k, row, columns, cache)
                                  for c, k in node.child_outputs])
    return cache[key]


SPNS = {
    "poon_domingos": lambda: poon_domingos_example().root,
    "poon_domingos_latent": lambda: poon_domingos_example(latent=True).root,
    "naive_bayes": lambda: naive_bayes_mixture(3, 3, seed=1).root,
    "random": lambda: random_spn(3, seed=2).root,
}


def _rows(num_cols):
    """Every full assignment of binary columns and a few with hidden columns (None)."""
    full = list(itertools.product([0, 1], repeat=num_cols))
    partial = [(None,) * num_cols, (1,) + (None,) * (num_cols - 1),
               (None,) * (num_cols - 1) + (0,)]
    return full + partial


def _cases(name, method):
    """(root, columns {variable: index}, row with None for hidden, the induced tree)."""
    root = SPNS[name]()
    columns = {v: i for i, v in enumerate(as_model(root).plan.columns.data)}
    for row in _rows(len(columns)):
        x = np.array([0 if v is None else v for v in row], np.int32)
        mask = np.array([v is not None for v in row])
        yield root, columns, row, induced_tree(root, x, mask, method=method)


@pytest.mark.parametrize("name", sorted(SPNS))
def test_max_product_tree_is_the_best_induced_tree_by_enumeration(name):
    for root, columns, row, tree in _cases(name, "max_product"):
        trees = _all_trees(root, 0, row, columns)
        best = max(value for value, _ in trees)
        assert tree.log_value == pytest.approx(np.log(best), abs=1e-5), row
        # the returned tree is one of the best ones, edge for edge
        values = {edges: value for value, edges in trees}
        assert tree.edges in values, row
        assert values[tree.edges] == pytest.approx(best, rel=1e-5), row
        nodes = {parent for parent, _ in tree.edges} | {child for _, child in tree.edges}
        assert tree.nodes == nodes | {(root, 0)}


@pytest.mark.parametrize("name", sorted(SPNS))
def test_hard_em_tree_follows_the_largest_weighted_child_of_the_sum_pass(name):
    for root, columns, row, tree in _cases(name, "hard_em"):
        cache = {}
        assert tree.log_value == pytest.approx(
            np.log(_polynomial(root, 0, row, columns, cache)), abs=1e-5)
        assert tree.chosen, "no sum selected"
        for (node, out), picked in tree.chosen.items():
            scores = [node.weight_values[out][i] * np.prod(
                [_polynomial(c, k, row, columns, cache) for c, k in pick])
                for i, pick in enumerate(_picks(node, out))]
            assert scores[picked] == pytest.approx(max(scores), rel=1e-5), (node.name, row)


@pytest.mark.parametrize("name", sorted(SPNS))
def test_unweighted_hard_em_tree_follows_the_largest_child_value_whatever_its_weight(name):
    for root, columns, row, tree in _cases(name, "unweighted_hard_em"):
        cache = {}
        assert tree.log_value == pytest.approx(
            np.log(_polynomial(root, 0, row, columns, cache)), abs=1e-5)
        for (node, out), picked in tree.chosen.items():
            scores = [np.prod([_polynomial(c, k, row, columns, cache) for c, k in pick])
                      for pick in _picks(node, out)]
            assert scores[picked] == pytest.approx(max(scores), rel=1e-5), (node.name, row)


def test_the_unweighted_choice_differs_from_the_weighted_one_where_weights_decide():
    """S = 0.7 P1 + 0.3 P2 with X1 hidden, X2 = 0: P1 = S11 S21 = 1 * 0.3 and P2 = 1 * 0.2, so
    both pick P1; with X2 = 0 and the root weights swapped to 0.3 / 0.7, hard EM picks P2
    (0.7 * 0.2 > 0.3 * 0.3) and unweighted hard EM still P1 (0.3 > 0.2)."""
    root = poon_domingos_example().root
    root.weights.assign([[0.3, 0.7]])
    x, mask = [0, 0], [False, True]
    picks = {m: induced_tree(root, x, mask, m).chosen[(root, 0)]
             for m in ("hard_em", "unweighted_hard_em")}
    assert picks == {"hard_em": 1, "unweighted_hard_em": 0}


def test_names_and_bad_input():
    root = poon_domingos_example().root
    names, edges = induced_tree_names(induced_tree(root, [0, 1]))
    # X1 = 0, X2 = 1: the left product (0.7 * 0.6 * 0.7) beats the right (0.3 * 0.9 * 0.8)
    assert names == {"S", "P1", "S11", "S21", "X"}
    assert ("S", "P1") in edges and ("P1", "S21") in edges and ("S", "P2") not in edges
    with pytest.raises(ValueError, match="method"):
        induced_tree(root, [0, 1], method="soft")
    with pytest.raises(ValueError, match="one row"):
        induced_tree(root, [[0, 1], [1, 1]])
