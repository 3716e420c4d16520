"""Explicit (non-recursive) graph traversals: topological order, upward computation, heights.

Every algorithm on the node graph runs through `compute_graph_up`: it visits the nodes in
topological order (inputs before the nodes that use them) and calls a per-node function with the
values already computed for the node's inputs, so node-specific code never recurses and graphs
with tens of thousands of nodes and depth in the thousands work.
"""
from spnlab.graph._checks import short_repr
from spnlab.graph.nodes import Node


class GraphCycleError(ValueError):
    """The graph has a cycle; `cycle` lists its nodes, the first repeated at the end."""

    def __init__(self, cycle):
        self.cycle = tuple(cycle)
        path = " -> ".join(f"'{node.name}'" for node in self.cycle)
        super().__init__(f"The SPN graph has a cycle: {path}")


def as_roots(roots, arg="roots"):
    """A tuple of nodes from one node or an iterable of nodes."""
    if isinstance(roots, Node):
        return (roots,)
    try:
        roots = tuple(roots)
    except TypeError:
        raise TypeError(f"Expected `{arg}` to be a Node or an iterable of nodes. "
                        f"Received: {arg}={short_repr(roots)}") from None
    for i, root in enumerate(roots):
        if not isinstance(root, Node):
            raise TypeError(f"Expected `{arg}` to be a Node or an iterable of nodes. "
                            f"Received: {arg}[{i}]={short_repr(root)}")
    if not roots:
        raise ValueError(f"Expected at least one node in `{arg}`. Received: {arg}=()")
    return roots


def postorder(roots, children):
    """Items reachable from `roots`, each after all of `children(item)` (iterative DFS).

    Children are visited in the order given, so the order is deterministic. Raises
    `GraphCycleError` naming the nodes of a cycle.
    """
    order, state = [], {}  # state: 1 = on the current path, 2 = done
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(children(root)))]
        while stack:
            item, pending = stack[-1]
            for child in pending:
                seen = state.get(child)
                if seen is None:
                    state[child] = 1
                    stack.append((child, iter(children(child))))
                    break
                if seen == 1:
                    path = [entry[0] for entry in stack]
                    raise GraphCycleError(path[path.index(child):] + [child])
            else:
                stack.pop()
                state[item] = 2
                order.append(item)
    return order


def input_nodes(node):
    """The nodes of `node.all_inputs` (children and, for sums, latent indicators)."""
    return [inp.node for inp in node.all_inputs]


def topological_order(roots):
    """All nodes reachable from `roots` (a node or nodes), each after all of its inputs.

    Leaves come first, the roots last. Deterministic: inputs are visited in their order.
    """
    return postorder(as_roots(roots), input_nodes)


def compute_graph_up(roots, fn):
    """Run `fn(node, input_values)` on every node in topological order.

    `input_values` is a tuple aligned with `node.all_inputs`: entry i is the value already
    computed for `node.all_inputs[i].node` (the whole node; `fn` selects the `indices` it needs);
    it is empty for leaves. Several values per node travel as one named tuple.

    Returns:
        dict `{node: value}` for every reachable node, in topological order.
    """
    if not callable(fn):
        raise TypeError(f"Expected `fn` to be callable(node, input_values). "
                        f"Received: fn={short_repr(fn)}")
    values = {}
    for node in topological_order(roots):
        values[node] = fn(node, tuple(values[inp.node] for inp in node.all_inputs))
    return values


def node_heights(roots):
    """`{node: height}`: 0 for leaves, else 1 + the largest height of its inputs.

    Nodes of equal height only depend on lower ones, so an evaluator may group them.
    """
    return compute_graph_up(
        roots, lambda node, heights: 1 + max(heights) if heights else 0)


def graph_weights(roots):
    """The distinct `Weights` used by the sums reachable from `roots`, in topological order."""
    found = {}
    for node in topological_order(roots):
        weights = getattr(node, "weights", None)
        if weights is not None:
            found.setdefault(id(weights), weights)
    return list(found.values())
