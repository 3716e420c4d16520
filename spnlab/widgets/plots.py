"""Views that plot session state: log-likelihood curves, per-layer signals, compare runs."""
import asyncio
import time

import ipywidgets as widgets
import numpy as np

from spnlab.widgets import figures
from spnlab.widgets._base import SessionView, figure_widget, redraw

# Tap series a user can plot per layer: (label, TapBuffer.series name, y-axis title).
SIGNALS = [
    ("forward mean log-value", "forward.mean", "log-value"),
    ("signal to inputs (mean |.|)", "signal_out.abs_mean", "|signal|"),
    ("child-selection entropy (normalised)", "entropy_norm", "H / log(children)"),
    ("dead-child fraction", "dead_fraction", "fraction"),
]


class LikelihoodView(SessionView):
    """Train and test log-likelihood over steps (or time), sum-op switches marked."""

    min_step_interval = 0.1

    def __init__(self, session, **kwargs):
        self.session = session
        self.axis = widgets.ToggleButtons(options=[("step", "step"), ("time", "wall_time")],
                                          value="step", style={"button_width": "60px"})
        self.figure = figure_widget(self._figure())
        super().__init__(session, [self.axis, self.figure], **kwargs)
        self.axis.observe(lambda _: self.guarded(self.refresh), "value")

    def _figure(self):
        history = self.session.history
        return figures.likelihood_figure(history.to_records(),
                                         [s.to_dict() for s in history.switches],
                                         x=self.axis.value)

    def refresh(self):
        redraw(self.figure, self._figure())


class SignalsView(SessionView):
    """Per-layer signal taps over steps, and the latest forward histograms and winner counts."""

    min_step_interval = 0.25

    def __init__(self, session, **kwargs):
        self.signal = widgets.Dropdown(options=[(label, i) for i, (label, _, _) in
                                                enumerate(SIGNALS)], value=2,
                                       description="signal", layout={"width": "420px"})
        self.layer = widgets.Dropdown(options=self._sum_keys(session), description="counts of")
        self.series = figure_widget(self._series_figure(session))
        self.histogram = figure_widget(self._histogram_figure(session))
        self.counts = figure_widget(self._counts_figure(session))
        half = {"flex": "1 1 0", "min_width": "0"}           # two plots share the width
        super().__init__(session, [self.signal, self.series,
                                   widgets.HBox([widgets.VBox([self.histogram], layout=half),
                                                 widgets.VBox([self.layer, self.counts],
                                                              layout=half)])],
                         **kwargs)
        for control in (self.signal, self.layer):
            control.observe(lambda _: self.guarded(self.refresh), "value")

    @staticmethod
    def _sum_keys(session):
        """(title, key) of every sum layer, for the "counts of" chooser."""
        return [(l["title"], l["key"]) for l in session.layers if l["kind"] == "sum"]

    def _series_figure(self, session):
        label, name, y_title = SIGNALS[self.signal.value]
        titles = {l["key"]: l["title"] for l in session.layers}
        series = {titles[k]: session.taps.series(k, name) for k in titles}
        series = {k: v for k, v in series.items() if any(x is not None for x in v[1])}
        return figures.series_figure(series, label, y_title,
                                     [s.to_dict() for s in session.history.switches])

    def _histogram_figure(self, session):
        latest = session.taps.latest()
        hists = {}
        if latest is not None:
            for key, tap in latest.layers.items():
                if tap.forward and tap.forward.get("hist") is not None:
                    lo, hi = np.asarray(tap.forward["hist_range"], float)
                    counts = np.asarray(tap.forward["hist"], float)
                    hists[key] = (np.linspace(lo, hi, len(counts) + 1), counts)
        return figures.histogram_figure(hists, "Forward log-values (latest step)")

    def _counts_figure(self, session):
        counts = session.node_signal(self.layer.value, "counts") if self.layer.value else None
        if counts is None:
            return figures.counts_figure(np.zeros((1, 1)), "Winner counts (no taps yet)")
        counts = np.asarray(counts)                               # [S, D, I, O]
        per_sum = np.moveaxis(counts, -2, -1).reshape(-1, counts.shape[-2])
        return figures.counts_figure(per_sum[:64], f"Child selections, {self.layer.label}")

    def refresh(self):
        keys = self._sum_keys(self.session)
        if list(self.layer.options) != keys:          # a rebuild changed the layers
            self.layer.options = keys
        redraw(self.series, self._series_figure(self.session))
        redraw(self.histogram, self._histogram_figure(self.session))
        redraw(self.counts, self._counts_figure(self.session))


class CompareView(SessionView):
    """Runs several sum ops for n steps from the session's current state and plots them.

    In a notebook the comparison runs as an asyncio task (`Session.compare_async`): the curves
    grow while it runs (redrawn at most every `min_step_interval` seconds), the notebook stays
    responsive, and the button turns into Stop. Without an event loop it runs to the end.
    """

    min_step_interval = 0.3

    def __init__(self, session, modes=("em", "hard_em", "unweighted_hard_em", "grad"), **kwargs):
        self.modes = widgets.SelectMultiple(options=["grad", "em", "hard_em",
                                                     "unweighted_hard_em", "sample"],
                                            value=tuple(modes), description="modes")
        self.steps = widgets.BoundedIntText(20, min=1, max=10000, description="steps")
        self.run = widgets.Button(description="Compare", icon="balance-scale")
        self.axis = widgets.ToggleButtons(options=[("step", "step"), ("time", "wall_time")],
                                          value="step", style={"button_width": "60px"})
        self.table = []
        self.figure = figure_widget(figures.compare_figure([]))
        super().__init__(session, [widgets.HBox([self.modes, widgets.VBox([self.steps, self.run,
                                                                             self.axis])]),
                                   self.figure], events=(), **kwargs)
        self.run.on_click(lambda _: self.guarded(self._on_click))
        self.axis.observe(lambda _: self.guarded(self.refresh), "value")
        self._task = None

    @property
    def running(self):
        return self._task is not None and not self._task.done()

    def _on_click(self):
        if self.running:
            self.session.stop()
            return
        modes, steps = list(self.modes.value), int(self.steps.value)
        try:
            asyncio.get_running_loop()
        except RuntimeError:                     # plain Python: run it to the end
            self._show(self.session.compare(modes, steps))
            return
        self.run.description, self.run.icon = "Stop", "stop"
        self._task = asyncio.ensure_future(self._run_comparison(modes, steps))

    async def _run_comparison(self, modes, steps):
        # (Not `_compare`: ipywidgets' Widget has a method of that name.)
        last = [0.0]

        def on_update(partial):
            if time.monotonic() - last[0] >= self.min_step_interval:
                last[0] = time.monotonic()
                self._show(partial)

        try:
            self._show(await self.session.compare_async(modes, steps, on_update))
        except Exception as error:  # noqa: BLE001 - shown in the view
            self.show_error(error)
        finally:
            self.run.description, self.run.icon = "Compare", "balance-scale"

    def _show(self, result):
        self.table = result.to_records()
        self.refresh()

    def refresh(self):
        redraw(self.figure, figures.compare_figure(self.table, x=self.axis.value))
