"""A node graph as a plain JSON-able dict, and back: for saving hand-built SPNs, and the config
of a saved `GraphModel` (`.keras`).

The dict lists variables, weights and nodes by position, nodes in topological order (inputs
before the nodes that use them), so loading is one pass without recursion:

    {"format": "spnlab.graph/1",
     "variables": [{"name": "X1", "num_vals": 2}, ...],      # num_vals None: continuous
     "weights":   [{"name": "W", "values": [[...], ...]}, ...],
     "nodes":     [{"type": "IndicatorLeaf", "name": ..., "variables": [0, 1]},
                   {"type": "NormalLeaf", ..., "num_components": 2, "loc": ..., "scale": ...},
                   {"type": "Product", "name": ..., "inputs": [[node, [outputs]], ...]},
                   {"type": "Sum" | "ParallelSums", ..., "num_sums": 1, "inputs": ...,
                    "weights": [weights, [rows]], "latent": [node, [outputs]] or None}, ...],
     "root": node position,
     "columns": [variable positions] or None}                # the data column order, if given

Identity is kept: shared variables, shared (tied) `Weights` and shared nodes stay shared.
A node's `origin` (set by `from_layer_model`) is kept when it is JSON-able.
"""
from spnlab.graph._checks import short_repr
from spnlab.graph.leaves import CauchyLeaf, IndicatorLeaf, LaplaceLeaf, NormalLeaf
from spnlab.graph.nodes import Node
from spnlab.graph.products import Product
from spnlab.graph.sums import BaseSum, ParallelSums, Sum
from spnlab.graph.traversal import topological_order
from spnlab.graph.variables import Variable, sorted_variables
from spnlab.graph.weights import Weights

FORMAT = "spnlab.graph/1"
_LOCATION_SCALE = {cls.__name__: cls for cls in (NormalLeaf, LaplaceLeaf, CauchyLeaf)}
_TYPES = ("IndicatorLeaf", *_LOCATION_SCALE, "Product", "Sum", "ParallelSums")


def graph_to_config(root, columns=None):
    """The graph below `root` as a JSON-able dict (see the module docstring).

    Args:
        root: the root node.
        columns: optional sequence of `Variable`s, the data column order to keep with it.
    """
    if not isinstance(root, Node):
        raise TypeError(f"Expected `root` to be a Node. Received: root={short_repr(root)}")
    order = topological_order(root)
    found = {v for node in order for v in getattr(node, "variables", ())}
    columns = None if columns is None else list(columns)
    for i, var in enumerate(columns or ()):
        if not isinstance(var, Variable):
            raise TypeError(f"Expected `columns[{i}]` to be a Variable. "
                            f"Received: {short_repr(var)}")
        found.add(var)
    variables = sorted_variables(found)
    var_pos = {v: i for i, v in enumerate(variables)}
    node_pos = {node: i for i, node in enumerate(order)}
    weights, weights_pos = [], {}

    def inputs_of(specs):
        return [[node_pos[spec.node], list(spec.indices)] for spec in specs]

    records = []
    for node in order:
        record = {"type": type(node).__name__, "name": node.name}
        if record["type"] not in _TYPES:
            raise TypeError(f"Expected nodes of the types {_TYPES}. Received: {node!r}")
        if isinstance(node, IndicatorLeaf):
            record["variables"] = [var_pos[v] for v in node.variables]
        elif type(node).__name__ in _LOCATION_SCALE:
            record.update(variables=[var_pos[v] for v in node.variables],
                          num_components=node.num_components, loc=node.loc.tolist(),
                          scale=node.scale.tolist())
        else:
            record["inputs"] = inputs_of(node.inputs)
            if isinstance(node, BaseSum):
                if node.weights not in weights_pos:
                    weights_pos[node.weights] = len(weights)
                    weights.append({"name": node.weights.name,
                                    "values": node.weights.values.tolist()})
                record.update(num_sums=node.num_sums,
                              weights=[weights_pos[node.weights], list(node.weight_sets)],
                              latent=None if node.latent_indicators is None else
                              inputs_of([node.latent_indicators])[0])
        origin = getattr(node, "origin", None)
        if origin is not None:
            record["origin"] = list(origin)
        records.append(record)
    return {"format": FORMAT,
            "variables": [{"name": v.name, "num_vals": v.num_vals} for v in variables],
            "weights": weights, "nodes": records, "root": node_pos[root],
            "columns": None if columns is None else [var_pos[v] for v in columns]}


def graph_from_config(config):
    """`(root, columns)` from a dict of `graph_to_config` (columns None when none were saved).

    Raises:
        ValueError: a dict of another format, or one whose entries do not fit together.
    """
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"Expected a graph config with format {FORMAT!r}. "
                         f"Received: {short_repr(config)}")
    missing = [k for k in ("variables", "weights", "nodes", "root") if k not in config]
    if missing:
        raise ValueError(f"Expected a graph config with keys 'variables', 'weights', 'nodes' "
                         f"and 'root'. Received one without {missing}")
    try:
        variables = [Variable(v["name"], v["num_vals"]) for v in config["variables"]]
        weights = [Weights.from_normalized(w["values"], name=w["name"])
                   for w in config["weights"]]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ValueError(f"Expected valid 'variables' and 'weights' records in the graph "
                         f"config ({type(error).__name__}: {error})") from None
    nodes = []
    for i, record in enumerate(config["nodes"]):
        try:
            nodes.append(_make_node(record, nodes, variables, weights))
        except (KeyError, IndexError, TypeError) as error:
            raise ValueError(f"Expected a valid node record at nodes[{i}]. "
                             f"Received: {short_repr(record)} ({error})") from None
    root = _pick(nodes, config["root"], "root", "nodes")
    columns = config.get("columns")
    try:
        columns = None if columns is None else tuple(_pick(variables, i, "columns", "variables")
                                                     for i in columns)
    except TypeError:
        raise ValueError(f"Expected 'columns' to be a list of variable indices. "
                         f"Received: {short_repr(columns)}") from None
    return root, columns


def _pick(items, index, what, among):
    """`items[index]` for an index in [0, len): a negative index would silently pick another
    entry (Python counts from the end)."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(items):
        raise (IndexError if what != "root" and what != "columns" else ValueError)(
            f"Expected `{what}` to index one of the {len(items)} {among} (0 to "
            f"{len(items) - 1}). Received: {what}={index!r}")
    return items[index]


def _make_node(record, nodes, variables, weights):
    kind, name = record["type"], record["name"]
    if kind == "IndicatorLeaf":
        node = IndicatorLeaf(variables=[_pick(variables, i, "variables", "variables")
                                        for i in record["variables"]], name=name)
    elif kind in _LOCATION_SCALE:
        node = _LOCATION_SCALE[kind](
            num_components=record["num_components"], loc=record["loc"], scale=record["scale"],
            variables=[_pick(variables, i, "variables", "variables")
                       for i in record["variables"]], name=name)
    else:
        inputs = [(_pick(nodes, n, "inputs", "earlier nodes"), indices)
                  for n, indices in record["inputs"]]
        if kind == "Product":
            node = Product(*inputs, name=name)
        elif kind in ("Sum", "ParallelSums"):
            w, rows = record["weights"]
            latent = record.get("latent")
            latent = None if latent is None else (
                _pick(nodes, latent[0], "latent", "earlier nodes"), latent[1])
            extra = {} if kind == "Sum" else {"num_sums": record["num_sums"]}
            node = (Sum if kind == "Sum" else ParallelSums)(
                *inputs, weights=(_pick(weights, w, "weights", "weights"), rows),
                latent_indicators=latent, name=name,
                **extra)
        else:
            raise TypeError(f"unknown node type {kind!r}")
    if "origin" in record:
        node.origin = tuple(record["origin"])
    return node
