"""Per-edge values of sum nodes (e.g. hard-EM winner counts) for the drawing: checked input and
the edge colour scale. Pure functions used by `dot.py`.

A sum node's edge values have its weights' shape `[num_sums, num_children]`: entry `[j, i]`
belongs to the edge from sum output j to child i (`child_outputs[i]`).
"""
import math
import numbers

import numpy as np

from spnlab.graph._checks import short_repr
from spnlab.graph.dot_format import number
from spnlab.graph.sums import BaseSum

EDGE_LOW = (204, 204, 204)      # light grey: the least (e.g. never chosen)
EDGE_HIGH = (203, 24, 29)       # red: the most


def per_edge(mapping, graph):
    """`{sum node: float64 [num_sums, num_children]}` from a dict keyed by sum-node names or
    nodes (names must be unique among the drawn nodes)."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise TypeError("Expected `edge_values` to be a dict of sum-node name -> array "
                        f"[num_sums, num_children]. Received: edge_values={short_repr(mapping)}")
    by_name = {}
    for node in graph:
        by_name.setdefault(node.name, []).append(node)
    out = {}
    for key, value in mapping.items():
        nodes = [key] if not isinstance(key, str) else by_name.get(key, [])
        if len(nodes) != 1 or nodes[0] not in graph or not isinstance(nodes[0], BaseSum):
            raise ValueError("Expected `edge_values` keys to name one sum node of the graph. "
                             f"Received: {short_repr(key)}")
        node = nodes[0]
        try:
            array = np.asarray(value, np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"Expected `edge_values[{node.name!r}]` to be numbers. "
                            f"Received: {short_repr(value)}") from None
        shape = (node.num_sums, node.num_children)
        if array.shape != shape:
            raise ValueError(f"Expected `edge_values[{node.name!r}]` of shape [num_sums, "
                             f"num_children]={list(shape)}. Received: shape={array.shape}")
        out[node] = array
    return out


class EdgeScale:
    """Maps finite edge values to colours from light grey (min) to red (max), all grey when
    they are all equal; `low`/`high` are the actual extremes of the drawn edges."""

    def __init__(self, arrays):
        finite = [x for a in arrays for x in np.ravel(a) if math.isfinite(x)]
        self.low, self.high = (min(finite), max(finite)) if finite else (0.0, 0.0)

    def __call__(self, x):
        if x is None or not isinstance(x, numbers.Real) or not math.isfinite(x):
            return None
        span = self.high - self.low
        t = (x - self.low) / span if span > 0 else 0.0      # all equal: none stands out
        return "#%02x%02x%02x" % tuple(round(a + (b - a) * t) for a, b in zip(EDGE_LOW, EDGE_HIGH))

    def legend(self, label, precision):
        return (f"edge colour: {label} from {number(self.low, precision)} (grey) to "
                f"{number(self.high, precision)} (red)")
