"""The SPN drawn with Graphviz: weights as edge widths, a chosen signal as node colour.

Rendering goes through `spnlab.graph.render.LayoutCache` (the layout is computed once per
structure; redraws reuse it), which like `render_svg` falls back to a WebAssembly Graphviz
when the `dot` program is missing, so the view never fails with ExecutableNotFound.
"""
import contextlib
import html

import ipywidgets as widgets

from spnlab.graph import to_dot, topological_order
from spnlab.graph.dot import node_ids
from spnlab.graph.legend import Legend, graph_legend, legend_html
from spnlab.graph.region_dot import region_dot
from spnlab.graph.render import LayoutCache
from spnlab.graph.sums import BaseSum
from spnlab.lab.graph_model import per_node_edge_values
from spnlab.lab.masks import masks_for
from spnlab.lab.ops import label_name
from spnlab.widgets._base import SessionView
from spnlab.widgets.graph_names import focus_options, region_titles
from spnlab.widgets.inference import offer_masks, query_rows
from spnlab.widgets.node_details import details_html, node_details
from spnlab.widgets.node_values import node_edge_values, node_values
from spnlab.widgets.svg_view import SvgView

SIGNAL_CHOICES = [("none", None), ("forward value", "forward"), ("signal", "signal"),
                  ("winner / EM counts", "counts")]
WHOLE = "whole model"
# What the colours show, with units (the legend's words).
NODE_QUANTITY = {"forward": "forward value: mean log-value per node over the last batch "
                            "(log p, nats)",
                 "signal": "backward signal: d log p / d node value, summed over the last batch"}
EDGE_QUANTITY = ("winner counts per edge: samples of the last batch whose chosen child it is "
                 "(hard EM: the induced trees; EM: posterior mass)")
# Above this many nodes or edges the per-node drawing is unreadable and slow (Graphviz lays out
# the classroom RAT-SPN's 586 edges in ~140 ms, a DGC-SPN's 1,508 in ~500 ms, 2,884 in ~2.9 s
# on a 2-core CPU): draw per layer, and let the user open one region (the sub-SPN below one sum
# node) instead.
MAX_NODES = 400
MAX_EDGES = 800
# "auto" draws a whole model of more nodes, or a region too big to draw node by node, as its
# region graph (the classroom RAT-SPN's node
# view is ~12,000 pt wide: its 128 pixel regions side by side).
AUTO_REGIONS = 100
LABELLED_EDGES = 40
REGIONS_PER_LEVEL = 8        # more in one level are one box: ~8 boxes fit 1,180 px at 1:1
DRAW_CHOICES = [("auto", "auto"), ("regions (overview)", "regions"), ("every node", "nodes"),
                ("one box per layer", "layers")]
TREE_CHOICES = [("none", None), ("MPE (max-product)", "max_product"),
                ("hard EM step", "hard_em")]
TREE_WORDS = {"max_product": "the MPE's induced tree",
              "hard_em": "the tree a hard-EM step credits",
              "unweighted_hard_em": "the tree an unweighted hard-EM step credits"}
REGION_SHAPES = (("box", "a region: its sums (one sum node), their number and scope size"),
                 ("dashed box", "all regions of a crowded layer; open one to see its nodes"))


class GraphView(SessionView):
    """The session's model drawn as its regions, its nodes or one box per layer (`draw`),
    redrawn after each step, with a legend.

    `focus` draws the sub-SPN below one sum node (a region of a large model); "auto" draws a
    large whole model as its region graph and an opened region node by node.
    """

    min_step_interval = 0.5

    def __init__(self, session, **kwargs):
        self.signal = widgets.Dropdown(options=SIGNAL_CHOICES, value="forward",
                                       description="colour by")
        self.draw = widgets.Dropdown(options=DRAW_CHOICES, value="auto", description="draw")
        self.focus = widgets.Dropdown(options=[WHOLE], value=WHOLE, description="open")
        self.svg = SvgView(height="600px", filename="spn_graph")         # pan / zoom / export
        # Steps change colours and edge widths, not the structure: lay it out once.
        self.renderer = LayoutCache()
        self.info = widgets.HTML()
        self.legend = widgets.HTML()
        self.details = widgets.HTML()                      # the last clicked node's details
        # The induced tree of one query row, highlighted: what MPE or hard EM selects.
        wide = {"description_width": "initial"}
        self.tree = widgets.Dropdown(options=TREE_CHOICES, value=None,
                                     description="induced tree", style=wide)
        self.tree_row = widgets.BoundedIntText(0, min=0,
                                               max=max(0, len(query_rows(session)) - 1),
                                               description="row", style=wide,
                                               layout=widgets.Layout(width="130px"))
        self.tree_mask = widgets.Dropdown(options=masks_for(session.data.image_shape),
                                          value="none", description="hidden", style=wide,
                                          layout=widgets.Layout(width="160px"))
        self.tree_info = widgets.HTML()
        self._drawn, self._titles = {}, {}                 # {name: node / title} drawn
        self._tree_shown = None
        super().__init__(session, [widgets.HBox([self.signal, self.focus, self.draw,
                                                 self.info]),
                                   widgets.HBox([self.tree, self.tree_row, self.tree_mask,
                                                 self.tree_info]),
                                   self.svg, self.details, self.legend], **kwargs)
        self.svg.on_click(self._open)               # a click on a region box opens it
        self._refreshing = False
        for control in (self.signal, self.draw, self.focus, self.tree, self.tree_row,
                        self.tree_mask):
            control.observe(self._on_control, "value")
        self.guarded(self.refresh)

    def _on_control(self, _):
        if not self._refreshing:
            self.guarded(self.refresh)

    def dot(self):
        """The DOT text the view draws (also handy to save); also sets the legend."""
        signal = self.signal.value
        snapshot = self.session.graph(signal)
        layers = self.session.layers
        whole = snapshot.graph.root
        order = topological_order(whole)
        self._set_focus_options([(WHOLE, WHOLE)] + focus_options(whole, layers))
        sums = {n.name: n for n in order if isinstance(n, BaseSum)}
        root = sums.get(self.focus.value, whole)
        below = order if root is whole else topological_order(root)
        num_edges = sum(len(getattr(n, "child_outputs", ())) for n in below)
        num_nodes = len(below)
        draw = self.draw.value
        if draw == "auto":
            too_big = num_nodes > MAX_NODES or num_edges > MAX_EDGES
            draw = "regions" if too_big or root is whole and num_nodes > AUTO_REGIONS \
                else "nodes"
        titles = region_titles(root, layers)
        self._drawn = {node_id: n for n, node_id in node_ids(root).items()}   # by DOT id
        self._titles = titles
        tree = self._tree(root)
        tree_words = self._tree_words() if tree is not None else None
        if tree is not None and draw == "layers":
            self.tree_info.value += " &middot; not drawn in the per-layer view"
        if draw == "regions":
            dot = region_dot(root, titles=titles, max_per_level=REGIONS_PER_LEVEL,
                             highlight=tree)
            self.info.value = (f"{num_nodes:,} nodes, {len(sums):,} regions &middot; open one "
                               f"to see its nodes &middot; step {snapshot.step}")
            self.legend.value = legend_html(Legend(REGION_SHAPES, None, None, None, tree_words))
            return dot
        collapsed = draw == "layers" or num_nodes > MAX_NODES or num_edges > MAX_EDGES
        values, edges = self._colours(snapshot, root, below)
        self.info.value = (f"{num_nodes:,} nodes" + (" (collapsed)" if collapsed else "")
                           + f" &middot; step {snapshot.step}")
        # with a tree shown its blue and grey replace the count colours (counts stay in the
        # edges' tooltips and a clicked sum's details)
        self.legend.value = legend_html(graph_legend(
            values, NODE_QUANTITY.get(signal, "node value"),
            None if collapsed or tree is not None else edges, EDGE_QUANTITY,
            weights=not collapsed, tree=None if collapsed else tree_words))
        # Small graphs show each weight as a number; large ones only as edge width (labels
        # slow Graphviz's layout ~3x and crowd the drawing).
        weights = True if num_edges <= LABELLED_EDGES else "width"
        return to_dot(root, values=values or None, collapsed=collapsed, weights=weights,
                      edge_values=edges or None, edge_label="winner count",
                      titles=titles, highlight=tree)

    def _tree(self, root):
        """The chosen induced tree of the chosen row (None: none chosen, or it failed: the
        error is shown in `tree_info`, the drawing goes on without it)."""
        self._tree_shown = None
        method = self.tree.value
        for control in (self.tree_row, self.tree_mask):
            control.layout.display = None if method else "none"
        if method is None:
            self.tree_info.value = ""
            return None
        session = self.session
        rows = query_rows(session)
        # fitting the choosers to the data must not redraw from inside this redraw
        with self.tree_row.hold_trait_notifications(), \
                self.tree_mask.hold_trait_notifications(), self._quiet():
            offer_masks(self.tree_mask, session, "none")
            self.tree_row.max = max(0, len(rows) - 1)
        row = min(self.tree_row.value, len(rows) - 1)
        mask = session.evidence_mask(self.tree_mask.value, num_rows=row + 1)[row]
        method = self._method(method)
        try:
            tree = session.induced_tree(rows[row], mask, method)
        except Exception as error:  # noqa: BLE001 - shown beside the chooser
            self.tree_info.value = (f"<span style='color:#b00020'>no tree: "
                                    f"{html.escape(type(error).__name__)}: "
                                    f"{html.escape(str(error))}</span>")
            return None
        what = "MPE log p" if method == "max_product" else "log p(evidence)"
        off = "" if root is None or any(n is root for n, _ in tree.nodes) or \
            root.name in {n.name for n, _ in tree.nodes} else \
            " &middot; the tree does not pass this region"
        size = len({node for node, _ in tree.nodes})
        self.tree_info.value = (f"{size} nodes &middot; {what} "
                                f"{tree.log_value:.2f} nats{off}")
        self._tree_shown = tree
        return tree

    def _method(self, method):
        """"hard_em" as the session trains: unweighted when a layer runs unweighted hard EM."""
        if method == "hard_em" and any(label_name(op) == "unweighted_hard_em"
                                       for op in self.session.sum_ops.values()):
            return "unweighted_hard_em"
        return method

    @contextlib.contextmanager
    def _quiet(self):
        self._refreshing = True
        try:
            yield
        finally:
            self._refreshing = False

    def _tree_words(self):
        rows = "test row" if len(self.session.data.test) else "training row"
        hidden = self.tree_mask.value
        evidence = "" if hidden == "none" else f", {hidden} hidden"
        return f"{TREE_WORDS[self._method(self.tree.value)]} of {rows} {self.tree_row.value}{evidence}"

    def _colours(self, snapshot, root, below):
        """`(node values, edge values)` of the drawn nodes for the chosen signal. Counts
        colour edges (which child wins); summed per node they would say nothing, since every
        sample passes every region of the trees it selects once."""
        names = {layer["name"]: layer["key"] for layer in self.session.layers}
        drawn = {n.name for n in below}
        if snapshot.signal == "counts":
            if snapshot.node_values is not None:                # a node-graph model
                array = self.session.node_signal("S1", "counts")
                edges = {} if array is None else per_node_edge_values(self.session.model, array)
            else:
                edges = node_edge_values(root, snapshot.layer_values, names)
            return None, {k: v for k, v in edges.items() if k in drawn}
        if snapshot.node_values is not None:
            values = snapshot.node_values
        else:
            values = node_values(root, snapshot.layer_values, names) if snapshot.signal else {}
        return {k: v for k, v in (values or {}).items() if k in drawn}, None

    def _open(self, node_id):
        """Open the clicked region (a sum node in the chooser); any other node's details
        (name, kind, scope, value, signal; a sum's weights, winner counts and the induced
        tree's choice) appear under the drawing."""
        if node_id != self.focus.value and node_id in {v for _, v in self.focus.options}:
            self.focus.value = node_id
            return
        node = self._drawn.get(node_id.split("/")[0])        # a split leaf's variable record
        if node is None:                                # e.g. a level box: its tooltip
            self.details.value = (f"<pre style='font-size:13px;margin:2px 0'>"
                                  f"{html.escape(self.svg.last_tooltip or node_id)}</pre>")
            return
        self.details.value = details_html(self.node_details(node))

    def node_details(self, node):
        """`NodeDetails` of a drawn node from the session's current taps."""
        numbers = {}
        for signal in ("forward", "signal"):
            values, _ = self._colours(self.session.graph(signal), node, [node])
            numbers[signal] = (values or {}).get(node.name)
        counts = None
        if isinstance(node, BaseSum):
            _, edges = self._colours(self.session.graph("counts"), node, [node])
            counts = (edges or {}).get(node.name)
        return node_details(node, self._titles.get(node.name), numbers["forward"],
                            numbers["signal"], counts, self._tree_shown)

    def _set_focus_options(self, options):
        if list(self.focus.options) != options:
            names = [value for _, value in options]
            current = self.focus.value if self.focus.value in names else WHOLE
            with self.focus.hold_trait_notifications():
                self.focus.options = options
                self.focus.value = current

    def refresh(self):
        # The viewer picks the zoom (natural size, or fitted while labels stay readable).
        self.svg.value = self.renderer.render(self.dot())
