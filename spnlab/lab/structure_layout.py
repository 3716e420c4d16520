"""A LearnSPN drawn with one layout from its first step to its last: nodes never move.

Graphviz lays a graph out anew each time, so a structure drawn after every decision would
jump around. Learning is deterministic, so the final structure can be learned ahead (a copy of
the learner run to its end) and laid out once; every partial structure is then drawn with the
final positions (Graphviz's `nop2`: positions given). Its nodes carry the ids of the slices that
made them (`S3`, `P3`, `L5_7`), so a node that stays in the final structure has its final place.
A pending slice's stand-in (its factorised leaves, the product over them) sits where what
replaces it will be: the product at the slice's top node, the leaf of variable v over the final
leaves of v below that slice. The picture fills in; nothing already drawn moves.
"""
import threading
from typing import NamedTuple

import numpy as np

from spnlab.graph import get_scopes, to_dot, topological_order
from spnlab.graph.render import layout_positions


class Described(NamedTuple):
    """What places a node of a partial structure: the slice that made it and its scope."""

    label: object               # the slice id (None for nodes of no slice)
    scope: frozenset            # variable names


def describe(root, node_labels):
    """`{node name: Described}` for the graph below `root`; `node_labels` as filled by
    `learner.graph(node_labels)`."""
    scopes = get_scopes(root)
    return {node.name: Described(node_labels.get(node),
                                 frozenset(v.name for s in scopes[node] for v in s))
            for node in topological_order(root)}


class FinalLayout:
    """The final structure's Graphviz layout, and places for the nodes of partial ones.

    Args:
        learner: a fresh LearnSPN (not stepped) with the run's data and settings; it is run
            to its end here.
        max_nodes: a final structure with more nodes is not laid out (`usable` is False: its
            drawing would be unreadable; the workbench draws an overview instead).
        max_width: nor is one whose drawing is wider (points): early steps would be a few
            nodes spread over a mostly empty page (Graphviz then lays out each step).
        engine: the Graphviz engine (`spnlab.graph.render_svg`).
    """

    def __init__(self, learner, max_nodes=600, max_width=8000, engine="auto"):
        labels = {}
        learner.learn()
        root = learner.graph(labels)
        self.num_nodes = len(topological_order(root))
        self.usable = self.num_nodes <= max_nodes
        self.bb, self.nodes, self.edges, self._entries = None, {}, {}, []
        if not self.usable:
            return
        self.bb, self.nodes, self.edges = layout_positions(to_dot(root, weights=True), engine)
        if float(self.bb.split(",")[2]) > max_width:
            self.usable = False
            return
        self._parent = {c: d.slice_id for d in learner.decisions for c in d.children}
        for name, (label, scope) in describe(root, labels).items():
            if label is not None and name in self.nodes:
                x, y = (float(v) for v in self.nodes[name]["pos"].split(","))
                self._entries.append((label, scope, x, y, name))

    def _below(self, label, top):
        """Whether slice `label` is `top` or was made from it."""
        while label is not None:
            if label == top:
                return True
            label = self._parent.get(label)
        return False

    def place(self, node_ids, described):
        """`{node id: {"pos", "width", "height"}}` for every id in `node_ids` (the node
        statements of the partial structure's DOT text), or None when one cannot be placed.

        A node of the final structure keeps its place. Another one (a pending slice's stand-in)
        goes where the final nodes below its slice that cover the most of its scope are: their
        mean x, the highest of their y.
        """
        if not self.usable:
            return None
        pins = {}
        for node_id in node_ids:
            if node_id in self.nodes:
                pins[node_id] = self.nodes[node_id]
                continue
            node = described.get(node_id)
            if node is None or node.label is None:
                return None
            candidates = [e for e in self._entries
                          if e[1] <= node.scope and self._below(e[0], node.label)]
            if not candidates:
                return None
            widest = max(len(e[1]) for e in candidates)
            candidates = [e for e in candidates if len(e[1]) == widest]
            x = float(np.mean([e[2] for e in candidates]))
            y = max(e[3] for e in candidates)
            like = self.nodes[candidates[0][4]]
            pins[node_id] = {"pos": f"{x:.2f},{y:.2f}", "width": like["width"],
                             "height": like["height"]}
        return pins


class LazyFinalLayout:
    """A `FinalLayout` made on first use (on a drawing thread: learning ahead takes ~1-10 s),
    once, whichever thread asks first; `get()` returns it."""

    def __init__(self, make):
        self._make, self._layout, self._lock = make, None, threading.Lock()

    def get(self):
        with self._lock:
            if self._layout is None:
                self._layout = self._make()
        return self._layout
