"""What the Graph view draws, UI-free: the DOT text of the session's model (its region
overview, an opened region's nodes, or one box per layer), coloured by a chosen signal, with
the induced tree of a chosen row highlighted, plus the texts around it (info line, legend,
tree line) and a clicked node's details. `spnlab.widgets.GraphView` shows it; a script can
save it (`draw_graph(session).dot`) or render it (`Renderer().render(dot)`).
"""
import html
from typing import NamedTuple, Optional

from spnlab.graph import to_dot, topological_order
from spnlab.graph.dot import node_ids
from spnlab.graph.legend import Legend, graph_legend, legend_html
from spnlab.graph.region_dot import region_dot
from spnlab.graph.render import LayoutCache
from spnlab.graph.sums import BaseSum
from spnlab.lab.graph_model import per_node_edge_values
from spnlab.lab.graph_names import focus_options, region_titles
from spnlab.lab.node_details import node_details
from spnlab.lab.node_values import node_edge_values, node_values
from spnlab.lab.ops import label_name
from spnlab.lab.queries import query_rows

Renderer = LayoutCache          # SVG of DOT text, reusing the layout while the structure stays
WHOLE = "whole model"
SIGNALS = ("forward", "signal", "counts")
DRAWS = ("auto", "regions", "nodes", "layers")
TREE_METHODS = ("max_product", "hard_em")
# What the colours show, with units (the legend's words).
NODE_QUANTITY = {"forward": "forward value: mean log-value per node over the last batch "
                            "(log p, nats)",
                 "signal": "backward signal: d log p / d node value, summed over the last batch"}
EDGE_QUANTITY = ("winner counts per edge: samples of the last batch whose chosen child it is "
                 "(hard EM: the induced trees; EM: posterior mass)")
TREE_WORDS = {"max_product": "the MPE's induced tree",
              "hard_em": "the tree a hard-EM step credits",
              "unweighted_hard_em": "the tree an unweighted hard-EM step credits"}
# Above this many nodes or edges the per-node drawing is unreadable and slow (Graphviz lays out
# the classroom RAT-SPN's 586 edges in ~140 ms, a DGC-SPN's 1,508 in ~500 ms, 2,884 in ~2.9 s
# on a 2-core CPU): draw per layer, and let the user open one region (the sub-SPN below one sum
# node) instead.
MAX_NODES = 400
MAX_EDGES = 800
# "auto" draws a whole model of more nodes, or a region too big to draw node by node, as its
# region graph (the classroom RAT-SPN's node view is ~12,000 pt wide: its 128 pixel regions
# side by side).
AUTO_REGIONS = 100
LABELLED_EDGES = 40
REGIONS_PER_LEVEL = 8        # more in one level are one box: ~8 boxes fit 1,180 px at 1:1
REGION_SHAPES = (("box", "a region: its sums (one sum node), their number and scope size"),
                 ("dashed box", "all regions of a crowded layer; open one to see its nodes"))


class Drawing(NamedTuple):
    """`dot`: the DOT text; `info`, `legend`, `tree_info`: HTML for the lines around it;
    `focus_options`: `[(label, sum node name)]` of the regions one can open (the whole model
    first); `nodes`: `{DOT id: node}` drawn; `titles`: `{node name: title}`; `tree`: the
    highlighted `InducedTree` or None."""

    dot: str
    info: str
    legend: str
    tree_info: str
    focus_options: list
    nodes: dict
    titles: dict
    tree: Optional[object]


def tree_method(session, method):
    """"hard_em" as the session trains: unweighted when a layer runs unweighted hard EM."""
    if method == "hard_em" and any(label_name(op) == "unweighted_hard_em"
                                   for op in session.sum_ops.values()):
        return "unweighted_hard_em"
    return method


def draw_graph(session, signal="forward", focus=WHOLE, draw="auto", tree=None, tree_row=0,
               tree_mask="none"):
    """The session's model drawn (see the module docstring).

    Args:
        signal: what colours the drawing: None, "forward", "signal" or "counts" (per edge).
        focus: WHOLE, or the name of a sum node whose sub-SPN (region) is drawn.
        draw: "auto" (a large whole model as regions, else nodes), "regions", "nodes" or
            "layers" (one box per height level).
        tree: None, "max_product" or "hard_em": the induced tree to highlight, of query row
            `tree_row` with the variables of mask `tree_mask` hidden.
    """
    if signal is not None and signal not in SIGNALS:
        raise ValueError(f"Expected `signal` in {SIGNALS} or None. Received: signal={signal!r}")
    if draw not in DRAWS:
        raise ValueError(f"Expected `draw` in {DRAWS}. Received: draw={draw!r}")
    if tree is not None and tree not in TREE_METHODS:
        raise ValueError(f"Expected `tree` in {TREE_METHODS} or None. Received: tree={tree!r}")
    snapshot = session.graph(signal)
    layers = session.layers
    whole = snapshot.graph.root
    order = topological_order(whole)
    options = [(WHOLE, WHOLE)] + focus_options(whole, layers)
    sums = {n.name: n for n in order if isinstance(n, BaseSum)}
    root = sums.get(focus, whole)
    below = order if root is whole else topological_order(root)
    num_edges = sum(len(getattr(n, "child_outputs", ())) for n in below)
    num_nodes = len(below)
    if draw == "auto":
        too_big = num_nodes > MAX_NODES or num_edges > MAX_EDGES
        draw = "regions" if too_big or root is whole and num_nodes > AUTO_REGIONS else "nodes"
    titles = region_titles(root, layers)
    nodes = {node_id: n for n, node_id in node_ids(root).items()}
    found, tree_info = _tree(session, root, tree, tree_row, tree_mask)
    words = None if found is None else _tree_words(session, tree, tree_row, tree_mask)
    if found is not None and draw == "layers":
        tree_info += " &middot; not drawn in the per-layer view"
    if draw == "regions":
        dot = region_dot(root, titles=titles, max_per_level=REGIONS_PER_LEVEL, highlight=found)
        info = (f"{num_nodes:,} nodes, {len(sums):,} regions &middot; open one to see its "
                f"nodes &middot; step {snapshot.step}")
        legend = legend_html(Legend(REGION_SHAPES, None, None, None, words))
        return Drawing(dot, info, legend, tree_info, options, nodes, titles, found)
    collapsed = draw == "layers" or num_nodes > MAX_NODES or num_edges > MAX_EDGES
    values, edges = colours(session, snapshot, root, below)
    info = (f"{num_nodes:,} nodes" + (" (collapsed)" if collapsed else "")
            + f" &middot; step {snapshot.step}")
    # with a tree shown its blue and grey replace the count colours (counts stay in the
    # edges' tooltips and a clicked sum's details)
    legend = legend_html(graph_legend(
        values, NODE_QUANTITY.get(signal, "node value"),
        None if collapsed or found is not None else edges, EDGE_QUANTITY,
        weights=not collapsed, tree=None if collapsed else words))
    # Small graphs show each weight as a number; large ones only as edge width (labels slow
    # Graphviz's layout ~3x and crowd the drawing).
    weights = True if num_edges <= LABELLED_EDGES else "width"
    dot = to_dot(root, values=values or None, collapsed=collapsed, weights=weights,
                 edge_values=edges or None, edge_label="winner count", titles=titles,
                 highlight=found)
    return Drawing(dot, info, legend, tree_info, options, nodes, titles, found)


def _tree(session, root, method, row, mask_kind):
    """`(InducedTree or None, its HTML line)`; a failing tree is reported, not raised, so the
    drawing goes on without it."""
    if method is None:
        return None, ""
    rows = query_rows(session)
    row = min(row, len(rows) - 1)
    mask = session.evidence_mask(mask_kind, num_rows=row + 1)[row]
    method = tree_method(session, method)
    try:
        tree = session.induced_tree(rows[row], mask, method)
    except Exception as error:  # noqa: BLE001 - shown beside the chooser
        return None, (f"<span style='color:#b00020'>no tree: {html.escape(type(error).__name__)}"
                      f": {html.escape(str(error))}</span>")
    what = "MPE log p" if method == "max_product" else "log p(evidence)"
    off = "" if root.name in {n.name for n, _ in tree.nodes} else \
        " &middot; the tree does not pass this region"
    size = len({node for node, _ in tree.nodes})
    return tree, f"{size} nodes &middot; {what} {tree.log_value:.2f} nats{off}"


def _tree_words(session, method, row, mask_kind):
    rows = "test row" if len(session.data.test) else "training row"
    evidence = "" if mask_kind == "none" else f", {mask_kind} hidden"
    return f"{TREE_WORDS[tree_method(session, method)]} of {rows} {row}{evidence}"


def colours(session, snapshot, root, below):
    """`(node values, edge values)` of the drawn nodes `below` for the snapshot's signal.
    Counts colour edges (which child wins); summed per node they would say nothing, since
    every sample passes every region of the trees it selects once."""
    names = {layer["name"]: layer["key"] for layer in session.layers}
    drawn = {n.name for n in below}
    if snapshot.signal == "counts":
        if snapshot.node_values is not None:                # a node-graph model
            array = session.node_signal("S1", "counts")
            edges = {} if array is None else per_node_edge_values(session.model, array)
        else:
            edges = node_edge_values(root, snapshot.layer_values, names)
        return None, {k: v for k, v in edges.items() if k in drawn}
    if snapshot.node_values is not None:
        values = snapshot.node_values
    else:
        values = node_values(root, snapshot.layer_values, names) if snapshot.signal else {}
    return {k: v for k, v in (values or {}).items() if k in drawn}, None


def details_of(session, node, titles=None, tree=None):
    """`NodeDetails` of a drawn node from the session's current taps: forward value,
    signal and, for a sum, its winner counts per edge and the choice of `tree`."""
    numbers = {}
    for signal in ("forward", "signal"):
        values, _ = colours(session, session.graph(signal), node, [node])
        numbers[signal] = (values or {}).get(node.name)
    counts = None
    if isinstance(node, BaseSum):
        _, edges = colours(session, session.graph("counts"), node, [node])
        counts = (edges or {}).get(node.name)
    return node_details(node, (titles or {}).get(node.name), numbers["forward"],
                        numbers["signal"], counts, tree)
