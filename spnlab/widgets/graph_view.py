"""The SPN drawn with Graphviz: weights as edge widths, a chosen signal as node colour.

Rendering goes through `spnlab.graph.render.LayoutCache` (the layout is computed once per
structure; redraws reuse it), which like `render_svg` falls back to a WebAssembly Graphviz
when the `dot` program is missing, so the view never fails with ExecutableNotFound.
"""
import ipywidgets as widgets

from spnlab.graph import to_dot, topological_order
from spnlab.graph.render import LayoutCache
from spnlab.graph.sums import BaseSum
from spnlab.widgets._base import SessionView
from spnlab.widgets.node_values import node_values
from spnlab.widgets.svg_view import SvgView

SIGNAL_CHOICES = [("none", None), ("forward value", "forward"), ("signal", "signal"),
                  ("winner / EM counts", "counts")]
WHOLE = "whole model"
# Above this many nodes or edges the per-node drawing is unreadable and slow (Graphviz lays out
# the classroom RAT-SPN's 586 edges in ~140 ms, a DGC-SPN's 1,508 in ~500 ms, 2,884 in ~2.9 s
# on a 2-core CPU): draw per layer, and let the user open one region (the sub-SPN below one sum
# node) instead.
MAX_NODES = 400
MAX_EDGES = 800


class GraphView(SessionView):
    """Per-node or collapsed drawing of the session's model, redrawn after each step.

    `focus` draws the sub-SPN below one sum node (a region of a large model); `collapsed`
    draws one box per level.
    """

    min_step_interval = 0.5

    def __init__(self, session, **kwargs):
        self.signal = widgets.Dropdown(options=SIGNAL_CHOICES, value="forward",
                                       description="colour by")
        self.collapsed = widgets.Checkbox(value=False, description="one box per layer")
        self.focus = widgets.Dropdown(options=[WHOLE], value=WHOLE, description="open")
        self.svg = SvgView(height="600px", filename="spn_graph")         # pan / zoom / export
        # Steps change colours and edge widths, not the structure: lay it out once.
        self.renderer = LayoutCache()
        self.info = widgets.HTML()
        super().__init__(session, [widgets.HBox([self.signal, self.focus, self.collapsed,
                                                 self.info]), self.svg], **kwargs)
        for control in (self.signal, self.collapsed, self.focus):
            control.observe(lambda _: self.guarded(self.refresh), "value")
        self.guarded(self.refresh)

    def dot(self):
        """The DOT text the view draws (also handy to save)."""
        snapshot = self.session.graph(self.signal.value)
        order = topological_order(snapshot.graph.root)
        sums = {n.name: n for n in reversed(order) if isinstance(n, BaseSum)}
        self._set_focus_options([WHOLE] + list(sums))
        root = sums.get(self.focus.value, snapshot.graph.root)
        below = order if root is snapshot.graph.root else topological_order(root)
        num_edges = sum(len(getattr(n, "child_outputs", ())) for n in below)
        num_nodes = len(below)
        collapsed = self.collapsed.value or num_nodes > MAX_NODES or num_edges > MAX_EDGES
        names = {layer["name"]: layer["key"] for layer in self.session.layers}
        if snapshot.node_values is not None:                    # a node-graph model
            values = snapshot.node_values
        else:
            values = node_values(root, snapshot.layer_values, names) if snapshot.signal else None
        self.info.value = (f"{num_nodes:,} nodes" + (" (collapsed)" if collapsed else "")
                           + f" &middot; step {snapshot.step}")
        return to_dot(root, values=values or None, collapsed=collapsed, weights="width")

    def _set_focus_options(self, options):
        if list(self.focus.options) != options:
            current = self.focus.value if self.focus.value in options else WHOLE
            with self.focus.hold_trait_notifications():
                self.focus.options = options
                self.focus.value = current

    def refresh(self):
        # The viewer picks the zoom (natural size, or fitted while labels stay readable).
        self.svg.value = self.renderer.render(self.dot())
