"""One widget that lays the views out together over one session."""
import ipywidgets as widgets

from spnlab.lab import Session
from spnlab.widgets.builder import BuilderView
from spnlab.widgets.graph_view import GraphView
from spnlab.widgets.inference import CompletionsView, MarginalsView
from spnlab.widgets.plots import CompareView, LikelihoodView, SignalsView
from spnlab.widgets.trainer import TrainerView


class Workbench(widgets.VBox):
    """The SPN workbench: build, train, and watch signals, marginals and completions.

    Args:
        session: a `spnlab.lab.Session`, or a config for a new one (a preset name such as
            "classroom", a dict, a `SessionConfig`), with `**overrides` (e.g. `seed=1`).
        compact: the projector layout: the builder folded away, the learning curve and the
            view tabs side by side, so that the controls, the curve and one view fit a
            1280x800 screen (`wb.compact = True / False` switches it live).

    Every panel is also usable alone (`TrainerView(session)`, `GraphView(session)`, ...).
    """

    def __init__(self, session="classroom", compact=False, **overrides):
        self.session = session if isinstance(session, Session) else Session(session, **overrides)
        s = self.session
        s.trace_ahead = True        # a switch's new training step is traced while you look
        self.builder = BuilderView(s)
        self.trainer = TrainerView(s)
        self.likelihood = LikelihoodView(s)
        self.graph = GraphView(s)
        self.signals = SignalsView(s)
        self.marginals = MarginalsView(s)
        self.completions = CompletionsView(s)
        self.compare = CompareView(s)
        tabs = widgets.Tab([self.graph, self.signals, self.marginals, self.completions,
                            self.compare])
        for i, title in enumerate(("Graph", "Signals", "Marginals", "Completions", "Compare")):
            tabs.set_title(i, title)
        self.tabs = tabs
        self._tab_views = [self.graph, self.signals, self.marginals, self.completions,
                           self.compare]
        tabs.observe(lambda change: self._show_tab(change["new"]), "selected_index")
        self._show_tab(0)
        self._compact = None
        super().__init__()
        self.compact = compact

    @property
    def compact(self):
        """Whether the projector layout is on (see the class docstring)."""
        return self._compact

    @compact.setter
    def compact(self, compact):
        if not isinstance(compact, bool):
            raise TypeError(f"Expected `compact` to be True or False. Received: "
                            f"compact={compact!r}")
        if compact == self._compact:
            return
        self._compact = compact
        if not compact:
            self.children = [self.builder, self.trainer, self.likelihood, self.tabs]
            return
        build = widgets.Accordion([self.builder], selected_index=None)
        build.set_title(0, "Build: structure, leaves, data")
        side = {"flex": "1 1 0", "min_width": "0"}
        self.children = [build, self.trainer, widgets.HBox(
            [widgets.VBox([self.likelihood], layout=dict(side, flex="2 1 0")),
             widgets.VBox([self.tabs], layout=dict(side, flex="3 1 0"))],
            layout={"align_items": "flex-start"})]

    def _show_tab(self, index):
        # Only the visible tab redraws after a step; the others catch up when shown.
        for i, view in enumerate(self._tab_views):
            view.set_active(i == index)

    def close(self):
        for name in ("builder", "trainer", "likelihood", "graph", "signals", "marginals",
                     "completions", "compare"):
            if hasattr(self, name):
                getattr(self, name).close()
        if hasattr(self, "session"):
            self.session.trace_ahead = False      # and lets Python collect what it froze
        super().close()
