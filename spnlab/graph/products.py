"""Product nodes."""
from spnlab.graph.nodes import OpNode


class Product(OpNode):
    """The product of all its children (`child_outputs`); one output.

    Its scope is the union of its children's scopes; it is decomposable when they are disjoint.

    Args:
        *inputs: children: nodes, `(node, indices)` tuples or `Input`s.
        name: node name; default `Product_<k>`.
    """

    def __init__(self, *inputs, name=None):
        super().__init__(inputs, name)

    @property
    def num_outputs(self):
        return 1
