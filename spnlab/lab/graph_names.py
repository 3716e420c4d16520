"""Names a drawing shares with the rest of the workbench: a sum node of a layer model is called
after its session layer ("S2" ... "S4 (root)") and its scope, "S2 · {x0 … x15} 16 vars", not
after its Keras layer (`dense_sum_1[1,1]`). Pure functions of the graph and `session.layers`."""
from spnlab.graph import get_scopes, node_heights
from spnlab.graph.sums import BaseSum
from spnlab.graph.variables import sorted_variables


def scope_words(scope, limit=3):
    """`{x0, x8}` for up to `limit` variables, else `{x0 … x63} 64 vars` (first and last)."""
    names = [v.name for v in sorted_variables(scope)]
    if len(names) <= limit:
        return "{" + ", ".join(names) + "}"
    return f"{{{names[0]} … {names[-1]}}} {len(names)} vars"


def layer_keys(layers):
    """`{Keras layer name: (position, key, title)}` of the sum layers in `session.layers`
    (title: "S1 (leaves)" ... "S4 (root)" where the session gives one, else the key)."""
    sums = [layer for layer in layers if layer["kind"] == "sum"]
    return {layer["name"]: (i, layer["key"], layer.get("title") or layer["key"])
            for i, layer in enumerate(sums)}


def _key(node, keys):
    origin = getattr(node, "origin", None)
    return keys.get(origin[0]) if origin else None


def region_titles(root, layers):
    """`{node name: "S2 · {x0 … x15} 16 vars"}` for the sum nodes below `root` that come from a
    session layer (a layer model's expansion); hand-built graphs keep their own names."""
    keys = layer_keys(layers)
    scopes = get_scopes(root)
    out = {}
    for node, node_scopes in scopes.items():
        found = _key(node, keys) if isinstance(node, BaseSum) else None
        if found is not None:
            out[node.name] = f"{found[1]} · " + scope_words(frozenset().union(*node_scopes))
    return out


def focus_options(root, layers):
    """Dropdown options `[(label, node name)]` of the sum nodes below `root` (not `root`),
    sorted top-down by layer (hand-built graphs: by height), then by scope (first variable,
    then size). Labels: "S2 · {x0 … x15} 16 vars · [1,0]", the layer's session title
    ("S1 (leaves)") where it has one (the region's scope/decomp index
    tells apart equal scopes of different repetitions)."""
    keys = layer_keys(layers)
    scopes = get_scopes(root)
    heights = node_heights(root)
    order = {v: i for i, v in enumerate(sorted_variables(
        frozenset().union(*scopes[root])))}
    rows = []
    for node, node_scopes in scopes.items():
        if node is root or not isinstance(node, BaseSum):
            continue
        scope = frozenset().union(*node_scopes)
        first = min((order.get(v, len(order)) for v in scope), default=0)
        found = _key(node, keys)
        if found is not None:
            where = ",".join(str(i) for i in node.origin[1:])
            label = f"{found[2]} · {scope_words(scope)} · [{where}]"
            rank = -found[0]
        else:
            label = f"{node.name} · {scope_words(scope)}"
            rank = -heights[node]
        rows.append(((rank, first, len(scope), label), (label, node.name)))
    return [option for _, option in sorted(rows)]
