"""Per-node values for colouring a drawn graph, from per-layer signal arrays."""


def node_values(graph, layer_values):
    """`{node name: float}` for the nodes of `graph` whose layer has a value.

    A node expanded from a layer model records where it came from (`node.origin`: the layer
    key and its index in the layer's output `(scope, decomp, node)`); nodes without an origin,
    or whose layer has no value, are left uncoloured.

    Args:
        graph: what `spnlab.graph.from_layer_model` returns (its `nodes`).
        layer_values: `{layer key: array}` (e.g. `GraphSnapshot.layer_values`), per-node arrays
            `[S, D, N]` for forward values and signals.
    """
    out = {}
    for node in getattr(graph, "nodes", ()) or ():
        origin = getattr(node, "origin", None)
        if origin is None:
            continue
        key, index = origin[0], tuple(origin[1:])
        values = layer_values.get(key)
        if values is None:
            continue
        try:
            out[node.name] = float(values[index])
        except (IndexError, TypeError, ValueError):
            continue
    return out
