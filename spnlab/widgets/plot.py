"""A plotly figure as one synced dict, drawn in the browser by plotly.js.

Why not plotly's `FigureWidget`: it ships its 5 MB JavaScript bundle with every widget (seven
FigureWidgets made the workbench send ~35 MB before it showed), and it sends changes as
transient messages, so a browser reload restores the figure it was created with and then fails
on the stale messages ("indices must be valid indices for gd.data"). Here the whole figure is
the widget's state: a reload, or the same view displayed in a second cell, draws what the
kernel holds now. plotly.js itself (the copy inside the `plotly` package, no download) reaches
the browser once per kernel, through one hidden library widget.
"""
import functools
import math
import pathlib

import anywidget
import numpy as np
import traitlets

_PLOTLY_JS = pathlib.Path(__import__("plotly").__file__).parent / "package_data" / "plotly.min.js"

# Both modules find plotly.js through one promise on globalThis, whichever loads first.
_SHARED = """
function plotlyPromise() {
  const g = globalThis;
  if (!g.__spnlabPlotly) {
    let resolve;
    g.__spnlabPlotly = new Promise((r) => { resolve = r; });
    g.__spnlabPlotly.resolve = resolve;
  }
  return g.__spnlabPlotly;
}
"""

_PLOT_ESM = _SHARED + """
function draw(Plotly, div, model) {
  // The figure's own height, the width the page gives it (plotly's `responsive` mode takes
  // the height from the container too, which collapsed figures to 0 px after a resize).
  const figure = model.get("figure") || {};
  const layout = Object.assign({}, figure.layout || {});
  layout.height = layout.height || 320;
  div.style.height = layout.height + "px";
  if (div.clientWidth > 0) layout.width = div.clientWidth;
  else delete layout.width;
  return Plotly.react(div, figure.data || [], layout, { displaylogo: false });
}

export default {
  async render({ model, el }) {
    const div = document.createElement("div");
    div.className = "spnlab-plot";
    div.style.width = "100%";
    el.appendChild(div);
    const Plotly = await plotlyPromise();
    await draw(Plotly, div, model);
    div.on("plotly_click", (event) => {
      const points = event.points.map((p) => ({
        curve: p.curveNumber, index: p.pointIndex ?? p.pointNumber, x: p.x, y: p.y }));
      model.send({ event: "click", points });
    });
    const redraw = () => draw(Plotly, div, model);
    model.on("change:figure", redraw);
    // A tab drawn while hidden has no width: draw again once it is shown (and when the
    // page's width changes).
    let width = div.clientWidth;
    const observer = new ResizeObserver(() => {
      if (div.clientWidth > 0 && div.clientWidth !== width) {
        width = div.clientWidth;
        redraw();
      }
    });
    observer.observe(el);
    return () => {
      model.off("change:figure", redraw);
      observer.disconnect();
      Plotly.purge(div);
    };
  },
};
"""


class _PlotlyLibrary(anywidget.AnyWidget):
    """Never displayed: its module runs plotly.js once when the browser creates its model."""

    _esm = traitlets.Unicode().tag(sync=True)


@functools.lru_cache(maxsize=1)
def _library_code():
    # plotly.min.js is a UMD bundle: with a local `module` it hands Plotly to module.exports.
    return ("const module = { exports: {} };\n" + _PLOTLY_JS.read_text() + "\n;" + _SHARED
            + "plotlyPromise().resolve(module.exports);\nexport default { initialize() {} };\n")


_library = None


def _ensure_library():
    """Create the library widget once per kernel, before the first plot."""
    global _library
    if _library is None or _library.comm is None:
        _library = _PlotlyLibrary(_esm=_library_code())
    return _library


def json_safe(value):
    """`value` with every NaN or infinity replaced by None (plotly draws a gap) and NumPy
    arrays and scalars turned into lists and Python numbers: figure JSON stays standard JSON
    (a NaN makes the browser's JSON parser fail, "Out of range float values are not JSON
    compliant")."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Plot(anywidget.AnyWidget):
    """A plotly figure dict (`{"data": [...], "layout": {...}}`, see `figures.py`) drawn with
    plotly.js at the width it is given.

    `update(figure)` redraws it (plotly.js `react`: only what changed is redrawn);
    `on_click(handler)` calls `handler(points)` with the clicked points, each a dict with
    `curve` (trace index), `index` (point index; `[row, col]` in a heatmap), `x` and `y`.
    """

    _esm = _PLOT_ESM
    figure = traitlets.Dict().tag(sync=True)

    def __init__(self, figure=None, **kwargs):
        _ensure_library()
        super().__init__(figure=json_safe(figure or {}), **kwargs)
        self._click_handlers = []
        self.on_msg(self._on_message)

    def update(self, figure):
        """Draw `figure` instead (one message with the whole figure)."""
        self.figure = json_safe(figure)

    @property
    def data(self):
        """The traces drawn, as dicts."""
        return self.figure.get("data", [])

    @property
    def layout(self):
        """The layout drawn, as a dict."""
        return self.figure.get("layout", {})

    def on_click(self, handler, remove=False):
        """Call `handler(points)` on a click in the browser (`remove=True` unregisters it)."""
        if remove:
            self._click_handlers.remove(handler)
        else:
            self._click_handlers.append(handler)

    def click(self, points):
        """What a click on `points` in the browser does (also for tests without a browser)."""
        for handler in list(self._click_handlers):
            handler(points)

    def _on_message(self, _, content, buffers):
        if isinstance(content, dict) and content.get("event") == "click":
            self.click(content.get("points") or [])
