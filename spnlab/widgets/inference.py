"""Views that query the model: per-variable marginals under evidence, and completions."""
import ipywidgets as widgets
import numpy as np

from spnlab.lab.masks import masks_for
from spnlab.lab.queries import COMPLETION_METHODS, query_rows
from spnlab.widgets import figures
from spnlab.widgets._base import SessionView, figure_widget, redraw


class MarginalsView(SessionView):
    """p(X_v | evidence) for every variable of one test row (binary images: p(x = 1) per
    pixel; grey or continuous images: the posterior mean E[x | evidence]).

    Evidence: a mask kind (e.g. the top half observed) over the row's values; for images, a
    click on a pixel toggles it between observed and hidden; otherwise (stacked bars, one bar
    per variable) a click on the part of variable v's bar for value k observes X_v = k, and a
    second click on it takes that evidence back.
    """

    min_step_interval = 0.5

    def __init__(self, session, row=0, **kwargs):
        self.row = widgets.BoundedIntText(row, min=0, max=max(0, len(query_rows(session)) - 1),
                                          description="row")
        # Images start with the bottom half hidden; other data with nothing observed (the
        # prior marginals), for clicks on the bars to add evidence.
        self.mask_kind = widgets.Dropdown(options=masks_for(session.data.image_shape),
                                          value="bottom" if session.data.image_shape
                                          else "all", description="hidden")
        self.evidence = self._mask(session)
        self.values = np.array(query_rows(session)[row])                      # what is observed
        self.figure = figure_widget({"data": [], "layout": {"height": 320}})
        super().__init__(session, [widgets.HBox([self.row, self.mask_kind]), self.figure],
                         **kwargs)
        for control in (self.row, self.mask_kind):
            control.observe(lambda _: self.guarded(self._on_mask), "value")
        self.figure.on_click(lambda points: self.guarded(self._on_click, points))
        self.guarded(self.refresh)

    def _mask(self, session):
        offer_masks(self.mask_kind, session, "all")
        return session.evidence_mask(self.mask_kind.value)[0]

    def _figure(self, session):
        offer_masks(self.mask_kind, session, "all")
        if len(self.values) != session.data.num_vars:                    # rebuilt: new data
            self.row.max = max(0, len(query_rows(session)) - 1)
            self.evidence = self._mask(session)
            self.values = np.array(query_rows(session)[min(self.row.value, self.row.max)])
        rows = query_rows(session)
        # images: the row itself beside its marginals (the ground truth of the hidden pixels)
        truth = rows[min(self.row.value, len(rows) - 1)] if session.data.image_shape else None
        if session.data.discrete and (rows.max(initial=0) <= 1 or not session.data.image_shape):
            p = session.marginals(self.values, self.evidence)            # [V, C]
            return figures.marginals_figure(p, session.data.image_shape, evidence=self.evidence,
                                            truth=truth)
        # Grey levels or continuous values: the posterior mean of every pixel.
        means = session.complete(self.values, self.evidence, "mean")
        return figures.posterior_mean_figure(means, session.data.image_shape or (1, len(means)),
                                             evidence=self.evidence,
                                             vmax=max(1.0, float(rows.max())), truth=truth)

    def _on_click(self, points):
        # Images: the heatmap (trace 0) and the evidence markers on top of it (trace 1), both
        # in pixel coordinates. Bars: trace k holds value k of every variable.
        if self.session.data.image_shape is not None:
            self._toggle(points)
        else:
            for point in points:
                self.pick([point["index"]], point["curve"])

    def pick(self, variables, value):
        """Observe X_v = `value` for each v in `variables`, or take that evidence back when
        it is already observed."""
        for v in variables:
            if self.evidence[v] and self.values[v] == value:
                self.evidence[v] = False
            else:
                self.values[v], self.evidence[v] = value, True
        self.refresh()

    def _toggle(self, points):
        """Observe or hide the clicked pixels (`points`: dicts with `x` = column, `y` = row
        counted from the bottom: the heatmap draws z upside down)."""
        rows, cols = self.session.data.image_shape
        for point in points:
            v = (rows - 1 - int(round(point["y"]))) * cols + int(round(point["x"]))
            self.evidence[v] = not self.evidence[v]
        self.refresh()

    def _on_mask(self):
        self.evidence = self._mask(self.session)
        self.values = np.array(query_rows(self.session)[self.row.value])
        self.refresh()

    def refresh(self):
        redraw(self.figure, self._figure(self.session))


class CompletionsView(SessionView):
    """Originals, masked inputs and completions by several methods, side by side."""

    min_step_interval = 1.0

    def __init__(self, session, num_rows=6, methods=COMPLETION_METHODS, **kwargs):
        self.num_rows = num_rows
        self.mask_kind = widgets.Dropdown(options=masks_for(session.data.image_shape),
                                          value="bottom" if session.data.image_shape
                                          else "random", description="hidden")
        self.methods = widgets.SelectMultiple(options=list(COMPLETION_METHODS),
                                              value=tuple(methods), description="methods")
        self.figure = figure_widget({"data": [], "layout": {"height": 300}})
        super().__init__(session, [widgets.HBox([self.mask_kind, self.methods]), self.figure],
                         **kwargs)
        for control in (self.mask_kind, self.methods):
            control.observe(lambda _: self.guarded(self.refresh), "value")
        self.guarded(self.refresh)

    def _figure(self, session):
        x = query_rows(session)[:self.num_rows]
        offer_masks(self.mask_kind, session, "random")
        kind = self.mask_kind.value
        mask = session.evidence_mask(kind, num_rows=len(x))
        rows, titles = [x, x], ["original", "masked"]
        for method in self.methods.value:
            rows.append(session.complete(x, mask, method=method, seed=0))
            titles.append(method)
        shape = session.data.image_shape or (1, x.shape[1])
        scale = max(1.0, float(np.max(x)))                          # grey levels for non-binary
        return figures.image_grid_figure([np.asarray(r, float) / scale for r in rows], titles,
                                         shape, masks=mask)

    def refresh(self):
        redraw(self.figure, self._figure(self.session))


def offer_masks(dropdown, session, fallback):
    """Offer only the masks that apply to the session's data (after a rebuild to data without
    images, the half-image masks go, and a chosen one becomes `fallback`). Changes no value
    silently otherwise."""
    options = masks_for(session.data.image_shape)
    if tuple(dropdown.options) != options:
        with dropdown.hold_trait_notifications():
            value = dropdown.value if dropdown.value in options else fallback
            dropdown.options = options
            dropdown.value = value
