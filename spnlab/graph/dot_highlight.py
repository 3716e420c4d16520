"""A highlighted sub-network in a drawing: the induced tree of one sample (what MPE or a
hard-EM step selects), matched to the drawn nodes by name so that a tree computed on another
copy of the same graph (the lab's drawings rebuild theirs each step) still lines up.

Only colours and pen widths change, never labels or node sizes, so a cached layout
(`render.LayoutCache`) is reused when the highlight moves.
"""
from spnlab.graph._checks import short_repr

TREE_COLOUR = "#1565c0"       # blue: apart from the grey-to-red scale of edge counts
FADED_COLOUR = "gray82"       # edges off the tree
TREE_PENWIDTH = 3.0


class Highlight:
    """The node outputs and edges of a tree, by node name: `outputs` `{name: {outputs}}`,
    `edges` `{(parent name, output, child name, output)}`.

    Args:
        tree: an `InducedTree` (or any object with `nodes`, a set of `(node, output)`, and
            `edges`, a set of `((parent, output), (child, output))`).
    """

    def __init__(self, tree):
        if not hasattr(tree, "nodes") or not hasattr(tree, "edges"):
            raise TypeError(f"Expected `highlight` to be an InducedTree (with `nodes` and "
                            f"`edges`). Received: highlight={short_repr(tree)}")
        self.outputs = {}                                   # {name: {outputs}}
        for node, out in tree.nodes:
            self.outputs.setdefault(node.name, set()).add(out)
        self.edges = {(p.name, p_out, c.name, c_out) for (p, p_out), (c, c_out) in tree.edges}
        # edges of non-sum nodes are drawn from port 0 whatever the parent's output
        self._any_port = {(p, c, c_out) for p, _, c, c_out in self.edges}

    def node(self, node, outputs=None):
        """Whether the tree holds `node` (any output, or any of `outputs`)."""
        found = self.outputs.get(node.name, ())
        return bool(found) if outputs is None else any(o in found for o in outputs)

    def edge(self, parent, port, child, index, exact):
        """Whether the drawn edge `parent[port] -> child[index]` is on the tree; `exact`:
        the port is the parent's output (sum edges), else any output of the parent counts."""
        if exact:
            return (parent.name, port, child.name, index) in self.edges
        return (parent.name, child.name, index) in self._any_port


def as_highlight(tree):
    """`Highlight` of `tree`, or None for None."""
    return None if tree is None else tree if isinstance(tree, Highlight) else Highlight(tree)


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
