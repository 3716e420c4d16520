"""A highlighted sub-network in a drawing: the induced tree of one sample (what MPE or a
hard-EM step selects). A tree computed on the drawn graph is matched node for node; one
computed on another copy of the same graph (the lab rebuilds a layer model's graph for each
drawing) is matched by node name, which then must be unique.

Only colours and pen widths change, never labels or node sizes, so a cached layout
(`render.LayoutCache`) is reused when the highlight moves.
"""
from spnlab.graph._checks import short_repr
from spnlab.graph.nodes import Node

TREE_COLOUR = "#1565c0"       # blue: apart from the grey-to-red scale of edge counts
FADED_COLOUR = "gray82"       # edges off the tree
TREE_PENWIDTH = 3.0


class Highlight:
    """The node outputs and edges of a tree, keyed by node (`by_node=True`) or by node name.

    Args:
        tree: an `InducedTree` (or any object with `nodes`, a set of `(node, output)`, and
            `edges`, a set of `((parent, output), (child, output))`).
        drawn: the drawn nodes; when the tree's nodes are among them, nodes are matched
            by identity (repeated names stay apart), else by name.
    """

    def __init__(self, tree, drawn=()):
        nodes, edges = getattr(tree, "nodes", None), getattr(tree, "edges", None)
        try:
            nodes = [(node, int(out)) for node, out in nodes]
            edges = [((p, int(po)), (c, int(co))) for (p, po), (c, co) in edges]
            if not all(isinstance(n, Node) for n in [n for n, _ in nodes]
                       + [n for (p, _), (c, _) in edges for n in (p, c)]):
                raise TypeError("not nodes")
        except (TypeError, ValueError, AttributeError):
            raise TypeError(f"Expected `highlight` to be an InducedTree: `nodes` of (node, "
                            f"output) and `edges` of ((node, output), (node, output)). "
                            f"Received: highlight={short_repr(tree)}") from None
        drawn = set(drawn)
        self.by_node = bool(nodes) and all(node in drawn for node, _ in nodes)
        key = (lambda n: n) if self.by_node else (lambda n: n.name)
        self.key = key                                     # node -> its key
        self.outputs = {}                                   # {node or name: {outputs}}
        for node, out in nodes:
            self.outputs.setdefault(key(node), set()).add(out)
        self.edges = {(key(p), p_out, key(c), c_out) for (p, p_out), (c, c_out) in edges}
        # edges of non-sum nodes are drawn from port 0 whatever the parent's output
        self._any_port = {(p, c, c_out) for p, _, c, c_out in self.edges}

    def node(self, node, outputs=None):
        """Whether the tree holds `node` (any output, or any of `outputs`)."""
        found = self.outputs.get(self.key(node), ())
        return bool(found) if outputs is None else any(o in found for o in outputs)

    def edge(self, parent, port, child, index, exact):
        """Whether the drawn edge `parent[port] -> child[index]` is on the tree; `exact`:
        the port is the parent's output (sum edges), else any output of the parent counts."""
        p, c = self.key(parent), self.key(child)
        if exact:
            return (p, port, c, index) in self.edges
        return (p, c, index) in self._any_port

    def below(self):
        """`{parent key: {child keys}}` of the tree's edges."""
        found = {}
        for p, _, c, _ in self.edges:
            found.setdefault(p, set()).add(c)
        return found


def as_highlight(tree, drawn=()):
    """`Highlight` of `tree` over the `drawn` nodes, or None for None."""
    return None if tree is None else Highlight(tree, drawn)


def node_style(highlight, on_tree):
    """Extra node attributes: a thick blue outline on the tree, nothing otherwise."""
    if highlight is None or not on_tree:
        return {}
    return {"color": TREE_COLOUR, "penwidth": TREE_PENWIDTH}


def edge_colour(highlight, on_tree, colour):
    """The colour of an edge: blue on the tree, faded off it, `colour` without a highlight."""
    if highlight is None:
        return colour
    return TREE_COLOUR if on_tree else FADED_COLOUR
