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

    Every panel is also usable alone (`TrainerView(session)`, `GraphView(session)`, ...).
    """

    def __init__(self, session="classroom", **overrides):
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
        super().__init__([self.builder, self.trainer, self.likelihood, tabs])

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
