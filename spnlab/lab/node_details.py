"""What the Graph view shows under the drawing for a clicked node: its name, kind and scope,
its forward value and backward signal, and for a sum its weights per child (with the per-edge
winner counts and the child the induced tree picks, when shown). Pure functions: `NodeDetails`
holds the numbers (tested), `details_html` writes them."""
import html
import numbers
from typing import NamedTuple, Optional

import numpy as np

from spnlab.graph._checks import short_repr
from spnlab.graph.dot_format import scope_text
from spnlab.graph.dot_highlight import TREE_COLOUR
from spnlab.graph.nodes import Node
from spnlab.graph.scope import get_scopes
from spnlab.graph.sums import BaseSum

MAX_SUMS = 8          # rows of the weight table
MAX_CHILDREN = 12     # columns; the rest are counted


class NodeDetails(NamedTuple):
    """`weights` `[num_sums, num_children]` (None for non-sums), `children` their labels
    ("P3", "X[5]"), `counts` the per-edge values of the same shape (or None), `chosen`
    `{sum output: child position}` of the induced tree."""

    title: str
    kind: str
    scope: str
    value: Optional[float]
    signal: Optional[float]
    weights: Optional[np.ndarray]
    children: tuple
    counts: Optional[np.ndarray]
    chosen: dict


def node_details(node, title=None, value=None, signal=None, counts=None, tree=None,
                 max_scope_vars=12):
    """The details of `node` (a node of a drawn graph).

    Args:
        title: the drawing's name for it ("S2 · {x0 … x15} 16 vars"), default its name.
        value, signal: its forward value (mean log-value) and backward signal, if known.
        counts: `[num_sums, num_children]` per-edge values of a sum (e.g. winner counts).
        tree: an `InducedTree` whose choices at this node are marked.
    """
    if not isinstance(node, Node):
        raise TypeError(f"Expected `node` to be a graph node. Received: node={short_repr(node)}")
    for arg, x in (("value", value), ("signal", signal)):
        if x is not None and (isinstance(x, bool) or not isinstance(x, numbers.Real)):
            raise TypeError(f"Expected `{arg}` to be a real number or None. "
                            f"Received: {arg}={short_repr(x)}")
    if tree is not None and not isinstance(getattr(tree, "chosen", None), dict):
        raise TypeError(f"Expected `tree` to be an InducedTree or None. "
                        f"Received: tree={short_repr(tree)}")
    scopes = get_scopes(node)[node]
    scope = scope_text(frozenset().union(*scopes), max_scope_vars)
    weights, children, chosen = None, (), {}
    if isinstance(node, BaseSum) and node.num_children:
        weights = np.asarray(node.weight_values, float)
        children = tuple(child.name if child.num_outputs == 1 else f"{child.name}[{out}]"
                         for child, out in node.child_outputs)
        if counts is not None:
            counts = np.asarray(counts, float)
            if counts.shape != weights.shape:
                raise ValueError(f"Expected `counts` of the weights' shape {weights.shape}. "
                                 f"Received: counts.shape={counts.shape}")
        if tree is not None:
            chosen = {out: pos for (n, out), pos in tree.chosen.items() if n.name == node.name}
    else:
        counts = None
    return NodeDetails(title or node.name, type(node).__name__, scope, value, signal, weights,
                       children, counts, chosen)


def _cell(details, s, c):
    text = f"{details.weights[s, c]:.3f}"
    if details.counts is not None:
        text += f" ({details.counts[s, c]:g})"
    if details.chosen.get(s) == c:
        return f"<td style='color:{TREE_COLOUR};font-weight:bold'>{text}</td>"
    return f"<td>{text}</td>"


def details_html(details):
    """The details as a small HTML block (13 px, a table of weights for sums)."""
    lines = [f"<b>{html.escape(details.title)}</b> ({html.escape(details.kind)}) &middot; "
             f"scope {html.escape(details.scope)}"]
    numbers = [f"{name} {x:.3f}" for name, x in (("value (mean log p, nats)", details.value),
                                                  ("signal", details.signal)) if x is not None]
    if numbers:
        lines.append(" &middot; ".join(numbers))
    if details.weights is not None:
        sums, kids = details.weights.shape
        shown_sums, shown_kids = min(sums, MAX_SUMS), min(kids, MAX_CHILDREN)
        what = "weight" + (" (winner count)" if details.counts is not None else "")
        if details.chosen:
            what += f", <span style='color:{TREE_COLOUR}'>bold: the induced tree's child</span>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in details.children[:shown_kids])
        rows = "".join(f"<tr><th>sum {s}</th>" + "".join(_cell(details, s, c)
                                                         for c in range(shown_kids)) + "</tr>"
                       for s in range(shown_sums))
        more = []
        if kids > shown_kids:
            more.append(f"{kids - shown_kids} more children")
        if sums > shown_sums:
            more.append(f"{sums - shown_sums} more sums")
        lines.append(f"{what} per child:<table style='font-size:12px;border-collapse:collapse'"
                     f" cellpadding='3'><tr><th></th>{head}</tr>{rows}</table>"
                     + (" &middot; ".join(more) if more else ""))
    return "<div style='font-size:13px;margin:2px 0'>" + "<br>".join(lines) + "</div>"
