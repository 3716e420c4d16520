"""The SPN drawn with Graphviz: weights as edge widths, a chosen signal as node colour, the
induced tree of a chosen row in blue, and a clicked node's details.

A thin view: what to draw comes from `spnlab.lab.drawing` (UI-free); rendering goes through
its `Renderer` (`spnlab.graph.render.LayoutCache`: the layout is computed once per structure,
redraws reuse it), which falls back to a WebAssembly Graphviz when the `dot` program is
missing, so the view never fails with ExecutableNotFound.
"""
import contextlib
import html

import ipywidgets as widgets

from spnlab.lab.drawing import WHOLE, Renderer, details_of, draw_graph
from spnlab.lab.masks import masks_for
from spnlab.lab.node_details import details_html
from spnlab.lab.queries import query_rows
from spnlab.widgets._base import SessionView
from spnlab.widgets.inference import offer_masks
from spnlab.widgets.svg_view import SvgView

SIGNAL_CHOICES = [("none", None), ("forward value", "forward"), ("signal", "signal"),
                  ("winner / EM counts", "counts")]
DRAW_CHOICES = [("auto", "auto"), ("regions (overview)", "regions"), ("every node", "nodes"),
                ("one box per layer", "layers")]
TREE_CHOICES = [("none", None), ("MPE (max-product)", "max_product"),
                ("hard EM step", "hard_em")]


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
        self.renderer = Renderer()
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
        """The DOT text the view draws (also handy to save); also sets the lines around it."""
        rows = query_rows(self.session)
        # fitting the tree choosers to the data must not redraw from inside this redraw
        with self.tree_row.hold_trait_notifications(), \
                self.tree_mask.hold_trait_notifications(), self._quiet():
            offer_masks(self.tree_mask, self.session, "none")
            self.tree_row.max = max(0, len(rows) - 1)
        for control in (self.tree_row, self.tree_mask):
            control.layout.display = None if self.tree.value else "none"
        drawing = draw_graph(self.session, self.signal.value, self.focus.value, self.draw.value,
                             self.tree.value, self.tree_row.value, self.tree_mask.value)
        self._set_focus_options(drawing.focus_options)
        self._drawn, self._titles = drawing.nodes, drawing.titles
        self._tree_shown = drawing.tree
        self.info.value, self.legend.value = drawing.info, drawing.legend
        self.tree_info.value = drawing.tree_info
        return drawing.dot

    @contextlib.contextmanager
    def _quiet(self):
        self._refreshing = True
        try:
            yield
        finally:
            self._refreshing = False

    def _open(self, node_id):
        """Open the clicked region (a sum node in the chooser); any other node's details
        (name, kind, scope, value, signal; a sum's weights, winner counts and the induced
        tree's choice) appear under the drawing."""
        if node_id != self.focus.value and node_id in {v for _, v in self.focus.options}:
            self.focus.value = node_id
            return
        node = self._drawn.get(node_id.split("/")[0])        # a split leaf's variable record
        tooltip = (f"<pre style='font-size:13px;margin:2px 0'>"
                   f"{html.escape(self.svg.last_tooltip or node_id)}</pre>")
        if node is None:                                # e.g. a level box: its tooltip
            self.details.value = tooltip
            return
        # a leaf's variable record: the leaf's details and which variable it is
        self.details.value = details_html(self.node_details(node)) + \
            (tooltip if "/" in node_id else "")

    def node_details(self, node):
        """`NodeDetails` of a drawn node from the session's current taps."""
        return details_of(self.session, node, self._titles, self._tree_shown)

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
