"""The induced tree of one sample: the sub-network that MPE or hard EM selects for it.

From the root down, a product keeps all its children and a sum keeps one: the child with the
largest weighted value `value(child) + log w (+ its latent indicator's value)`. Under
"max_product" the values come from the max-product pass (sums are weighted maxes, unobserved
leaves give their mode's density): the tree is the MPE's induced tree and its log-value the
MPE's log-probability. Under "hard_em" they come from the ordinary sum pass (unobserved
leaves give 1): the tree is what a hard-EM step credits for this sample (LibSPN-Keras'
completion). "unweighted_hard_em" is the same pass with each sum's choice made without its
weights (`value(child)` alone), as unweighted hard EM picks its winners. Ties go to the first
child (the TF passes break them at random).
"""
from typing import NamedTuple

import numpy as np

from spnlab.core.queries.passes import mpe_pass
from spnlab.graph.data import check_data
from spnlab.graph.queries import as_model
from spnlab.graph.sums import BaseSum

INDUCED_METHODS = ("max_product", "hard_em", "unweighted_hard_em")


class InducedTree(NamedTuple):
    """`nodes`: the selected node outputs `{(node, output)}`; `edges`: the selected edges
    `{((parent, output), (child, output))}` (latent-indicator edges included); `chosen`:
    `{(sum node, output): child position}` for every selected sum; `log_value`: the root's
    value under the pass (max_product: the MPE log-probability)."""

    nodes: frozenset
    edges: frozenset
    chosen: dict
    log_value: float


def _root(spn):
    plan = getattr(spn, "plan", None)
    return spn if plan is None else plan.root


def induced_tree(spn, x, evidence_mask=None, method="max_product", variables=None):
    """The induced tree of one row (see the module docstring).

    Args:
        spn: a root node or a `GraphModel`.
        x: one row `[C]` (or `[1, C]`) of the graph's columns; unobserved entries any value.
        evidence_mask: `[C]` bool, True where observed (None: all observed).
        method: "max_product", "hard_em" or "unweighted_hard_em".
    """
    if method not in INDUCED_METHODS:
        raise ValueError(f"Expected `method` in {INDUCED_METHODS}. Received: method={method!r}")
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"Expected one row `x` of shape [C] or [1, C]. Received shape "
                         f"{x.shape}")
    if evidence_mask is not None:
        evidence_mask = np.asarray(evidence_mask, bool).reshape(1, -1)
    op, marginalize = mpe_pass("max_product" if method == "max_product" else "hard_em")
    model = as_model(spn, variables)
    data = check_data(model.plan.columns, x, evidence_mask)
    leaves = model.leaf_log_values(data.x, data.mask, marginalize=marginalize)
    root_value, levels = model.upward(leaves, op if method == "max_product" else None,
                                      keep_levels=True)
    levels = [level.numpy() for level in levels]
    values = {node: levels[level][rows, 0] for node, (level, rows) in
              model.plan.addresses.items()}                              # {node: [outputs]}
    return _select(_root(spn), values, float(root_value.numpy()[0]),
                   weighted=method != "unweighted_hard_em")


def _select(root, values, log_value, weighted=True):
    """Walk down from the root's output 0 keeping what each node selects."""
    nodes, edges, chosen = set(), set(), {}
    stack, seen = [(root, 0)], set()
    while stack:
        node, out = stack.pop()
        if (node, out) in seen:
            continue
        seen.add((node, out))
        nodes.add((node, out))
        if not node.is_op:
            continue
        children = list(node.child_outputs)
        if isinstance(node, BaseSum):
            # each child with what selecting it brings along (its latent indicator)
            picks = [[child] for child in children]
            latent = node.latent_indicators
            if latent is not None:
                n = len(children)
                for i, pick in enumerate(picks):
                    pick.append((latent.node, latent.indices[out * n + i]))
            score = np.array([sum(values[c][k] for c, k in pick) for pick in picks], float)
            if weighted:
                with np.errstate(divide="ignore"):
                    score = score + np.log(node.weight_values[out])
            best = int(np.argmax(score))
            chosen[(node, out)] = best
            children_kept = picks[best]
        else:
            children_kept = children
        for child in children_kept:
            edges.add(((node, out), child))
            stack.append(child)
    return InducedTree(frozenset(nodes), frozenset(edges), chosen, log_value)


def induced_tree_names(tree):
    """`(node names, {(parent name, child name)})` of a tree, e.g. to highlight it in DOT."""
    names = {node.name for node, _ in tree.nodes}
    return names, {(parent.name, child.name) for (parent, _), (child, _) in tree.edges}
