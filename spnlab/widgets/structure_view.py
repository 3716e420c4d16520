"""Watch a structure being learned: Step / Play / Pause / Reset over a `StructureRun`, with the
slice being decided, the evidence of the decision, the validation curve and the graph so far;
once the structure is done, "Train parameters" opens a Workbench on it."""
import asyncio
import threading

import ipywidgets as widgets

from spnlab.graph.render import render_pinned
from spnlab.lab.drawing import Renderer
from spnlab.lab.structure_run import StructureRun
from spnlab.widgets.clock import BrowserClock
from spnlab.widgets.plot import Plot
from spnlab.widgets.structure_figures import (clusters_figure, dependency_figure, leaf_figure,
                                               slice_figure, structure_curve_figure,
                                               tree_figure)
from spnlab.widgets.svg_view import SvgView


def decision_figure(run, decision):
    """The figure that shows why `decision` was taken."""
    if decision.kind in ("tree", "edge"):                          # HCLT
        tree = run.learner.tree
        attached = tree.order[: len(run.decisions)]
        return tree_figure(tree.parents, tree.mutual_information, attached=attached,
                           new=decision.details.get("variable") if decision.kind == "edge"
                           else None)
    if decision.kind == "sum":
        return clusters_figure(decision)
    if decision.kind == "product":
        return dependency_figure(decision)
    return leaf_figure(decision)


class StructureView(widgets.VBox):
    """Step through a structure learner.

    A Step answers with the decision, the slice, the evidence and the curve at once; the graph
    is drawn by Graphviz on a background thread and appears when ready (a newer step's drawing
    replaces an older one still running). A LearnSPN's graph keeps one layout from the first
    step to the last (its final structure is learned ahead and laid out once, on that thread;
    `StructureRun.positions`): nodes never move, the picture fills in.

    Args:
        run: a `StructureRun`, or the learner's name ("learnspn", "learnspn_clt", "hclt") with
            `data` and the learner's options in `**kwargs` (see `StructureRun`).
        on_train: what "Train parameters" does: `on_train(run)` returns the `Session` that
            trains the finished structure (the workbench's own session, rebuilt on it); the
            view then follows that session. Without it the button opens a new Workbench
            below the view.
    """

    def __init__(self, run="learnspn", on_train=None, **kwargs):
        self.run = run if isinstance(run, StructureRun) else StructureRun(
            run, **{"prepare_ahead": True, **kwargs})
        self.on_train = on_train
        self.trained_session = None       # the session training the structure, once handed over
        self.play = widgets.ToggleButton(description="Play", icon="play")
        self.step_button = widgets.Button(description="Step", icon="step-forward")
        self.reset_button = widgets.Button(description="Reset", icon="undo")
        self.train_button = widgets.Button(description="Train parameters", icon="graduation-cap",
                                           disabled=True, layout={"width": "auto"})
        self.status = widgets.HTML()
        self.reason = widgets.HTML()
        self.clock = BrowserClock()
        self.curve = Plot(structure_curve_figure(self.run.curve))
        self.slice = Plot({"data": [], "layout": {"title": {"text": "no decision yet"}}})
        self.evidence = Plot({"data": [], "layout": {"title": {"text": "no decision yet"}}})
        self.graph = SvgView(height="420px")
        self.graph_note = widgets.HTML()
        self.trained = widgets.VBox()
        side = {"flex": "1 1 0", "min_width": "0"}
        super().__init__([
            widgets.HBox([self.play, self.step_button, self.reset_button, self.train_button,
                          self.status, self.clock]),
            self.reason,
            widgets.HBox([widgets.VBox([self.slice], layout=side),
                          widgets.VBox([self.evidence], layout=side)]),
            widgets.HBox([widgets.VBox([self.curve], layout=side),
                          widgets.VBox([self.graph_note, self.graph], layout=side)]),
            self.trained])
        self._task = None
        self.handed_over = False
        self._workbench = self._unsubscribe = self._reference = None
        self._overview = False            # the slice overview is shown instead of the graph
        self._drawing = 0                 # the number of the latest drawing asked for
        self._wanted = None               # its DOT text, until the worker takes it
        self._draw_thread = None
        self._draw_lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self.renderer = Renderer()
        self.play.observe(lambda change: self._on_play(change["new"]), "value")
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.train_button.on_click(lambda _: self.train_parameters())
        self.refresh()

    # -- controls ------------------------------------------------------------------------------
    def step(self):
        """One decision, then redraw; returns it (None when done)."""
        decision = self.run.step()
        self.refresh(decision)
        return decision

    def reset(self):
        self.play.value = False
        self._close_trained()
        self.run.reset()
        self.refresh()

    def train_parameters(self, **overrides):
        """Hand the finished structure over for training: with `on_train`, to the session it
        returns (returned); else a new Workbench on it, shown below (returned). While it
        trains, the curve shows the trained model's validation log-likelihood as a dashed
        line (updated every `REFERENCE_EVERY` steps)."""
        if self.on_train is not None:
            if overrides:
                raise ValueError(f"Expected no overrides with `on_train` (the workbench's "
                                 f"session keeps its settings). Received: {overrides!r}")
            session = self.on_train(self.run)
            self.follow(session)
            return session
        from spnlab.widgets.workbench import Workbench
        self._close_trained()
        workbench = Workbench(self.run.to_session(**overrides))
        self._workbench = workbench
        self.follow(workbench.session, handed_over=False)
        self.trained.children = [widgets.HTML("<b>Parameters of the learned structure</b>"),
                                 workbench]
        return workbench

    def follow(self, session, handed_over=True):
        """Show `session`'s validation log-likelihood as the curve's reference line while it
        trains the structure. `handed_over`: the structure now belongs to that session, so the
        learner's controls are off (Build learns another one)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.trained_session = session
        self._unsubscribe = session.subscribe("step", self._on_training_step)
        self.handed_over = handed_over
        self._reference = None
        self.refresh()

    REFERENCE_EVERY = 10
    MAX_GRAPH_NODES = 600        # larger node graphs are drawn as the slice overview

    def _on_training_step(self, record):
        session = self.trained_session
        if session.step_count % self.REFERENCE_EVERY and session.step_count != 1:
            return
        valid = float(session.log_likelihood(self.run.valid).mean())
        self._reference = (valid, f"after {session.step_count} training steps")
        self.curve.update(structure_curve_figure(self.run.curve, *self._reference))

    def _close_trained(self):
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._workbench is not None:
            self._workbench.close()
        self._workbench = self._unsubscribe = self._reference = self.trained_session = None
        self.handed_over = False
        self.trained.children = []

    def close(self):
        self.play.value = False
        self._close_trained()
        self.run.wait_prepared()
        super().close()

    def _on_play(self, playing):
        self.play.description, self.play.icon = ("Pause", "pause") if playing else ("Play", "play")
        if playing and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._play())

    async def _play(self):
        try:
            while self.play.value and not self.run.done:
                self.step()
                await self.clock.round_trip()
        finally:
            self.play.value = False

    # -- run -> views --------------------------------------------------------------------------
    def refresh(self, decision=None):
        run = self.run
        point = run.curve[-1]
        self.status.value = (f"<b>{len(run.decisions)} decisions</b> &middot; validation LL "
                             f"{point.valid_ll:.3f}" + (" &middot; done" if run.done else ""))
        self.step_button.disabled = run.done or self.handed_over
        self.train_button.disabled = not run.done or self.handed_over
        self.play.disabled = self.reset_button.disabled = self.handed_over
        if self.handed_over:
            self.status.value += " &middot; training its parameters below"
        self.curve.update(structure_curve_figure(run.curve, *(self._reference or (None,))))
        if decision is None and run.decisions:
            decision = run.decisions[-1]
        if decision is not None:
            self.reason.value = f"step {decision.step}: <b>{decision.kind}</b> &mdash; " \
                                f"{decision.reason}"
            self.slice.update(slice_figure(run.train, decision))
            self.evidence.update(decision_figure(run, decision))
        else:
            self.reason.value = "Step to take the first decision."
        dot = run.dot(self.MAX_GRAPH_NODES)
        self._overview = dot is None
        self._draw(dot if dot is not None else run.overview_dot())

    def _draw(self, dot):
        """Ask for `dot` to be drawn. One worker thread draws only the latest request, so
        steps taken faster than Graphviz skip the drawings in between."""
        if dot is None:
            with self._draw_lock:
                self._wanted = None
                self._drawing += 1
            self.graph_note.value = (f"The graph has grown past {self.MAX_GRAPH_NODES} nodes: "
                                     f"too large to read as one drawing (the tree beside it "
                                     f"shows its shape).")
            return
        self.graph_note.value = (f"The node graph has grown past {self.MAX_GRAPH_NODES} nodes; "
                                 f"this overview draws one box per split." if self._overview
                                 else "drawing the graph...")
        with self._draw_lock:
            self._wanted = dot
            self._drawing += 1
            self._idle.clear()
            if self._draw_thread is None or not self._draw_thread.is_alive():
                self._draw_thread = threading.Thread(target=self._draw_worker, daemon=True,
                                                     name="spnlab-structure-draw")
                self._draw_thread.start()

    def _draw_worker(self):
        while True:
            with self._draw_lock:
                dot, number, self._wanted = self._wanted, self._drawing, None
                if dot is None:
                    self._idle.set()
                    self._draw_thread = None
                    return
            try:
                placed = self.run.positions(dot)      # nodes where they end up (LearnSPN)
                svg = (render_pinned(dot, *placed) if placed is not None
                       else self.renderer.render(dot))
                note = (f"The node graph has grown past {self.MAX_GRAPH_NODES} nodes; this "
                        f"overview draws one box per split." if "digraph structure" in dot
                        else "")
            except Exception as error:  # noqa: BLE001 - shown in the view
                svg, note = None, f"the graph could not be drawn: {error}"
            with self._draw_lock:               # a newer request cannot slip in between
                if number == self._drawing:
                    if svg is not None:
                        self.graph.value = svg
                    self.graph_note.value = note

    def wait_drawn(self, timeout=60):
        """Wait until the last asked-for drawing is shown (tests, scripts)."""
        return self._idle.wait(timeout)
