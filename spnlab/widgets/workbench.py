"""One widget that lays the views out together over one session."""
import ipywidgets as widgets

from spnlab.lab import Session
from spnlab.widgets.builder import BuilderView
from spnlab.widgets.graph_view import GraphView
from spnlab.widgets.inference import CompletionsView, MarginalsView
from spnlab.widgets.plots import CompareView, LikelihoodView, SignalsView
from spnlab.widgets.structure_view import StructureView
from spnlab.widgets.trainer import TrainerView


class Workbench(widgets.VBox):
    """The SPN workbench: build, train, and watch signals, marginals and completions.

    Args:
        session: a `spnlab.lab.Session`, or a config for a new one (a preset name such as
            "classroom", a dict, a `SessionConfig`), with `**overrides` (e.g. `seed=1`).
        compact: the projector layout: the builder folded away, the learning curve and the
            view tabs side by side, so that the controls, the curve and one view fit a
            1280x800 screen (`wb.compact = True / False` switches it live).

    Learned structures: Build with "learned: LearnSPN" (or the Chow-Liu-leaf LearnSPN, or
    HCLT) opens structure mode (`learn_structure`): the learner's Step / Play / Reset, the slice
    being split, why, the validation curve and the growing graph, in place of the training
    views. "Train parameters" hands the finished structure to this same session
    (`session.rebuild(..., structure_run=run)`), the training views come back, and the learner's
    view stays above them (folded) with the trained model's validation log-likelihood as the
    curve's reference line. Give `data_dir=` (a config field) to offer the benchmarks there.

    Every panel is also usable alone (`TrainerView(session)`, `GraphView(session)`, ...).
    """

    def __init__(self, session="classroom", compact=False, **overrides):
        self.session = session if isinstance(session, Session) else Session(session, **overrides)
        s = self.session
        s.trace_ahead = True        # a switch's new training step is traced while you look
        self.builder = BuilderView(s, on_learn=self.learn_structure)
        self.structure = None           # the learner's view (StructureView), for a learned one
        self._learning = None           # the changes being learned in structure mode, or None
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
        self._unsubscribe = s.subscribe("reset", lambda _: self._follow_structure())
        self._follow_structure()
        self.compact = compact

    @property
    def learning(self):
        """Whether structure mode is on (a learner is being stepped; training views hidden)."""
        return self._learning is not None

    def learn_structure(self, changes=None, **more):
        """Structure mode for the learned structure of the session's config with `changes`
        (rebuild's settings, e.g. `structure="learnspn", learner_options={...}`): a
        `StructureView` over a new run replaces the training views until its "Train
        parameters", which rebuilds this session on the learned structure. The session does
        not change before that. Returns the view."""
        changes = {**(changes or {}), **more}
        run = self.session.structure_run_for(**changes)        # checks the settings first
        self._set_structure(StructureView(run, on_train=lambda r: self._train(changes, r)))
        self._learning = changes
        self._layout()
        return self.structure

    def _learning_note(self):
        cfg = self.session.config
        learner = self._learning.get("structure", cfg.structure)
        data = self._learning.get("dataset", cfg.dataset)
        return widgets.HTML(
            f"<b>Structure mode</b>: {learner} is learning a structure from {data}, one "
            f"decision per Step. <b>Train parameters</b> (when the learner has finished) hands "
            f"the structure to this session; until then the session keeps its {cfg.structure} "
            f"model.")

    def _train(self, changes, run):
        learning, self._learning = self._learning, None
        try:
            self.session.rebuild(structure_run=run, **changes)  # "reset": _follow_structure
        except Exception:
            self._learning = learning                           # still in structure mode
            raise
        return self.session

    def _set_structure(self, view):
        if self.structure is not None and self.structure is not view:
            self.structure.close()
        self.structure = view

    def _follow_structure(self):
        """After a reset or rebuild: the learner's view follows the session's learned
        structure (a new view for another run, none for a structure not learned)."""
        run = self.session.structure_run
        # A rebuild during structure mode (Build of a structure that is not learned) ends it:
        # the learner being stepped is not the session's.
        self._learning = None
        if run is None:
            self._set_structure(None)
        elif self.structure is None or self.structure.run is not run:
            self._set_structure(StructureView(run))
        if self.structure is not None and self.structure.trained_session is None:
            self.structure.follow(self.session)
        if self._compact is not None:
            self._layout()

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
        self._layout()

    def _layout(self):
        if self._compact:
            build = widgets.Accordion([self.builder], selected_index=None)
            build.set_title(0, "Build: structure, leaves, data")
            top = [build]
        else:
            top = [self.builder]
        if self.learning:
            self.children = top + [self._learning_note(), self.structure]
            return
        if self.structure is not None:
            learned = widgets.Accordion([self.structure], selected_index=None)
            learned.set_title(0, f"Learned structure: {len(self.structure.run.decisions)} "
                                 f"learner decisions (its curve, slices and graph)")
            top.append(learned)
        if not self._compact:
            self.children = top + [self.trainer, self.likelihood, self.tabs]
            return
        side = {"flex": "1 1 0", "min_width": "0"}
        self.children = top + [self.trainer, widgets.HBox(
            [widgets.VBox([self.likelihood], layout=dict(side, flex="2 1 0")),
             widgets.VBox([self.tabs], layout=dict(side, flex="3 1 0"))],
            layout={"align_items": "flex-start"})]

    def _show_tab(self, index):
        # Only the visible tab redraws after a step; the others catch up when shown.
        for i, view in enumerate(self._tab_views):
            view.set_active(i == index)

    def close(self):
        if hasattr(self, "_unsubscribe"):
            self._unsubscribe()
        for name in ("builder", "trainer", "likelihood", "graph", "signals", "marginals",
                     "completions", "compare", "structure"):
            if getattr(self, name, None) is not None:
                getattr(self, name).close()
        if hasattr(self, "session"):
            self.session.trace_ahead = False      # and lets Python collect what it froze
        super().close()
