"""The legend of a drawing made by `to_dot`: node shapes, edge width, and the colour scales
with their quantity and the actual min/max of the drawn values. Pure functions: `graph_legend`
returns plain data (testable), `legend_html` writes it for a notebook.
"""
import html
import math
from typing import NamedTuple, Optional

from spnlab.graph._checks import short_repr
from spnlab.graph.dot_edges import EDGE_HIGH, EDGE_LOW
from spnlab.graph.dot_format import ColourScale, colour, number
from spnlab.graph.dot_highlight import TREE_COLOUR

SHAPES = (("circle +", "sum node; a rounded box of + fields: the sums of one region"),
          ("circle ×", "product node"),
          ("box X3 | 0 | 1", "leaf: one box per variable, one field per value (or component)"))


class ScaleEntry(NamedTuple):
    """One colour scale: what it shows, the extremes present and their colours."""

    quantity: str
    low: float
    high: float
    low_colour: str
    high_colour: str
    diverging: bool = False          # blue < 0 < red, symmetric around 0


class Legend(NamedTuple):
    shapes: tuple
    edge_width: Optional[str]
    node_scale: Optional[ScaleEntry]
    edge_scale: Optional[ScaleEntry]
    tree: Optional[str] = None       # what the blue (highlighted) part is, when shown


def _finite(values, arg):
    out = []
    for x in values:
        try:
            x = float(x)
        except (TypeError, ValueError):
            raise TypeError(f"Expected `{arg}` to hold numbers. Received: {short_repr(x)}") \
                from None
        if math.isfinite(x):
            out.append(x)
    return out


def graph_legend(values=None, node_quantity="node value", edge_values=None,
                 edge_quantity="edge value", weights=True, tree=None):
    """What a drawing's colours and widths mean.

    Args:
        values: the node values that `to_dot` colours nodes with (dict name -> float, or an
            iterable of floats), or None.
        node_quantity: what they are, with units ("forward value: log p, nats").
        edge_values: the per-edge values given to `to_dot` (dict name -> array, or an iterable
            of arrays), or None.
        edge_quantity: what they are ("winner counts per edge, last step").
        weights: whether edge width shows the sum weight.
        tree: what a highlighted (blue) tree is, e.g. "the MPE's induced tree of test row 3",
            or None when none is drawn.

    Returns:
        `Legend`; a scale is None when there is nothing finite to colour.
    """
    for arg, text in (("node_quantity", node_quantity), ("edge_quantity", edge_quantity)):
        if not isinstance(text, str):
            raise TypeError(f"Expected `{arg}` to be a str. Received: {arg}={short_repr(text)}")
    node_scale = edge_scale = None
    if values:
        numbers = _finite(values.values() if isinstance(values, dict) else values, "values")
        if numbers:
            scale = ColourScale(numbers, node_quantity, 2)
            if scale.diverging:
                node_scale = ScaleEntry(node_quantity, scale.low, scale.high,
                                        colour(-1.0, True)[0], colour(1.0, True)[0], True)
            else:
                node_scale = ScaleEntry(node_quantity, scale.low, scale.high,
                                        scale(scale.low)[0] or colour(1.0, False)[0],
                                        scale(scale.high)[0])
    if edge_values:
        arrays = edge_values.values() if isinstance(edge_values, dict) else edge_values
        numbers = _finite((x for a in arrays for x in _flat(a)), "edge_values")
        if numbers:
            low, high = min(numbers), max(numbers)
            hexes = ["#%02x%02x%02x" % c for c in (EDGE_LOW, EDGE_HIGH)]
            edge_scale = ScaleEntry(edge_quantity, low, high, hexes[0],
                                    hexes[1] if high > low else hexes[0])
    width = "edge width: sum weight (0 thin … 1 thick)" if weights else None
    if tree is not None and not isinstance(tree, str):
        raise TypeError(f"Expected `tree` to be a str or None. Received: tree={short_repr(tree)}")
    return Legend(SHAPES, width, node_scale, edge_scale, tree)


def _flat(array):
    import numpy as np
    return np.ravel(np.asarray(array, dtype=object))


def _bar(entry, precision):
    low, high = number(entry.low, precision), number(entry.high, precision)
    if entry.diverging:
        gradient = f"{entry.low_colour}, #ffffff, {entry.high_colour}"
        bound = number(max(abs(entry.low), abs(entry.high)), precision)
        ends = (f"-{bound}", f"+{bound}")
        note = f" (present: {low} … {high})"
    else:
        gradient = f"{entry.low_colour}, {entry.high_colour}"
        ends, note = (low, high), ""
    return (f"<div><b>{html.escape(entry.quantity)}</b>{html.escape(note)}<br>"
            f"<span>{ends[0]}</span> <span style='display:inline-block;width:160px;height:12px;"
            f"vertical-align:middle;border:1px solid #999;background:linear-gradient(to right,"
            f" {gradient})'></span> <span>{ends[1]}</span></div>")


def legend_html(legend, precision=2):
    """The legend as a small HTML block (14 px text, readable on a projector)."""
    if not isinstance(legend, Legend):
        raise TypeError(f"Expected `legend` to be a Legend. Received: legend={short_repr(legend)}")
    parts = [" &nbsp; ".join(f"<b>{html.escape(shape)}</b>: {html.escape(meaning)}"
                             for shape, meaning in legend.shapes)]
    if legend.edge_width:
        parts.append(html.escape(legend.edge_width))
    for entry in (legend.node_scale, legend.edge_scale):
        if entry is not None:
            parts.append(_bar(entry, precision))
    if legend.tree:
        parts.append(f"<span style='color:{TREE_COLOUR};font-weight:bold'>━━ blue</span>: "
                     f"{html.escape(legend.tree)} (other edges faded)")
    return ("<div class='spnlab-legend' style='font-size:14px;line-height:1.5'>"
            + "".join(f"<div>{p}</div>" if not p.startswith("<div>") else p for p in parts)
            + "</div>")
