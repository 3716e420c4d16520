"""Per-node values for colouring a drawn graph, from per-layer signal arrays."""
import numpy as np

from spnlab.graph import topological_order


def node_values(root, layer_values, layer_names):
    """`{node name: float}` for the nodes whose layer has a value.

    A node expanded from a layer model records where it came from (`node.origin`: the Keras
    layer name, then its scope and decomp and, for products, its node index); a ParallelSums
    node (all sums of one region) gets the mean over its sums, an edge array `[S, D, I, O]`
    (e.g. winner counts) the total over the region's edges.

    Args:
        root: the graph's root node.
        layer_values: `{layer key: array}` (e.g. `GraphSnapshot.layer_values`), per-node
            arrays `[S, D, N]` or per-edge arrays `[S, D, I, O]`.
        layer_names: `{Keras layer name: layer key}`.
    """
    out = {}
    for node in topological_order(root):
        origin = getattr(node, "origin", None)
        if origin is None or origin[0] not in layer_names:
            continue
        values = layer_values.get(layer_names[origin[0]])
        if values is None:
            continue
        values = np.asarray(values, float)
        index = tuple(origin[1:])
        try:
            picked = values[index]
        except IndexError:
            continue
        picked = np.asarray(picked, float)
        total = picked.sum() if values.ndim == 4 else picked.mean()
        if np.isfinite(total):
            out[node.name] = float(total)
    return out


def node_edge_values(root, layer_values, layer_names):
    """`{sum node name: [num_sums, num_children]}` from per-edge layer arrays `[S, D, I, O]`
    (e.g. winner counts): entry `[s, d]` of the node's region, `[I, O]`, transposed to the
    weights' layout. Arrays of another shape, and nodes whose slice does not match their
    children, are left out.

    Args: as for `node_values`.
    """
    out = {}
    for node in topological_order(root):
        origin = getattr(node, "origin", None)
        if origin is None or not hasattr(node, "num_sums") or origin[0] not in layer_names:
            continue
        values = layer_values.get(layer_names[origin[0]])
        if values is None or np.ndim(values) != 4:
            continue
        try:
            picked = np.asarray(values, float)[tuple(origin[1:3])].T        # [O, I]
        except IndexError:
            continue
        if picked.shape == (node.num_sums, node.num_children):
            out[node.name] = picked
    return out
