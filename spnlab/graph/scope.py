"""Scopes: the set of variables of every output of every node.

A leaf output's scope is its variable. An op node's output scope is the union of its children's
scopes; for sum j with latent indicators, the scope of its latent variable is added (LibSPN:
the indicators are an input of the sum).
"""
from spnlab.graph._checks import short_repr
from spnlab.graph.nodes import LeafNode, Node
from spnlab.graph.traversal import compute_graph_up

EMPTY = frozenset()


def node_scopes(node, input_scopes):
    """Per-output scopes of `node` (tuple of frozensets) from the per-output scopes of its
    `all_inputs` nodes (`input_scopes[i]` belongs to `node.all_inputs[i].node`)."""
    if isinstance(node, LeafNode):
        return tuple(frozenset((node.output_variable(i),)) for i in range(node.num_outputs))
    children = EMPTY.union(*(input_scopes[k][i] for k, inp in enumerate(node.inputs)
                             for i in inp.indices))
    latent = getattr(node, "latent_indicators", None)
    if latent is None:
        return (children,) * node.num_outputs
    latent_scopes = input_scopes[-1]  # the latent indicators are the last of `all_inputs`
    n = node.num_children
    return tuple(children.union(*(latent_scopes[i] for i in latent.indices[j * n:(j + 1) * n]))
                 for j in range(node.num_outputs))


def get_scopes(roots):
    """`{node: tuple of per-output scopes}` for every node reachable from `roots`."""
    return compute_graph_up(roots, node_scopes)


def get_scope(node):
    """The scopes of `node`'s outputs: a tuple of `num_outputs` frozensets of `Variable`."""
    if not isinstance(node, Node):
        raise TypeError(f"Expected `node` to be a Node. Received: node={short_repr(node)}")
    return get_scopes(node)[node]
