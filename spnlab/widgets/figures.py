"""Pure functions from session state to plotly figure dicts (no widgets, no TensorFlow).

Every view draws through one of these, so what a user sees is unit-tested without a browser.
Each returns `{"data": [...], "layout": {...}}`, accepted by `plotly.graph_objects.Figure` and
by `FigureWidget.update` inside `batch_update`.
"""
import math

import numpy as np

from spnlab.lab.ops import label_name

# One colour per sum op, the same in every figure (curves, switch markers, compare runs).
OP_COLOURS = {
    "grad": "#1f77b4", "em": "#2ca02c", "hard_em": "#d62728", "unweighted_hard_em": "#ff7f0e",
    "sample": "#9467bd",
}
_FALLBACK = ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def op_colour(op_name):
    """The colour of a sum op's name (unknown names get a stable fallback)."""
    key = label_name(op_name).lower()
    if key in OP_COLOURS:
        return OP_COLOURS[key]
    return _FALLBACK[sum(map(ord, key)) % len(_FALLBACK)]


def _layout(title, x_title, y_title, **extra):
    return {"title": {"text": title}, "xaxis": {"title": {"text": x_title}},
            "yaxis": {"title": {"text": y_title}}, "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "height": 280, "showlegend": True, "legend": {"orientation": "h", "y": -0.25},
            **extra}


def _finite(values):
    return [None if v is None or not math.isfinite(v) else float(v) for v in values]


def _line_mode(num_points):
    """Lines, with markers while there are few points (a single point has no line)."""
    return "lines+markers" if num_points <= 30 else "lines"


def switch_markers(switches, x="step", by_step=None):
    """Plotly shapes and annotations: a dashed line in the new op's colour at every switch.

    Args:
        switches: switch records as dicts with `step` and `new` ({layer: op}).
        x: "step", or "wall_time" (then `by_step` maps steps to records with `wall_time`).
    """
    shapes, annotations = [], []
    for switch in switches:
        at = switch["step"] if x == "step" else \
            (by_step or {}).get(switch["step"], {}).get("wall_time", 0.0)
        ops = sorted(set(map(str, switch["new"].values())))
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": at, "x1": at,
                       "y0": 0, "y1": 1, "line": {"dash": "dash", "color": op_colour(ops[0])}})
        annotations.append({"xref": "x", "yref": "paper", "x": at, "y": 1, "showarrow": False,
                            "text": " / ".join(ops), "yanchor": "bottom", "font": {"size": 12}})
    return shapes, annotations


def likelihood_figure(steps, switches=(), x="step"):
    """Train and test log-likelihood over steps, each live sum-op switch a dashed line.

    Args:
        steps: step records as dicts with `step`, `wall_time`, `train_ll`, `test_ll` (None on
            steps without evaluation); e.g. `session.history.to_records()`.
        switches: switch records as dicts with `step` and `new` ({layer: op}).
        x: "step" or "wall_time".
    """
    if x not in ("step", "wall_time"):
        raise ValueError(f"Expected `x` in ('step', 'wall_time'). Received: x={x!r}")
    xs = [r[x] for r in steps]
    test = [(r[x], r["test_ll"]) for r in steps if r.get("test_ll") is not None]
    data = [{"type": "scatter", "mode": _line_mode(len(xs)), "name": "train LL", "x": xs,
             "y": _finite(r["train_ll"] for r in steps), "line": {"color": "#1f77b4"}},
            {"type": "scatter", "mode": "lines+markers", "name": "test LL",
             "x": [t[0] for t in test], "y": _finite(t[1] for t in test),
             "line": {"color": "#ff7f0e"}}]
    shapes, annotations = switch_markers(switches, x, {r["step"]: r for r in steps})
    title_x = "step" if x == "step" else "training time (s)"
    return {"data": data, "layout": _layout("Log-likelihood (nats per sample)", title_x, "mean LL",
                                            shapes=shapes, annotations=annotations)}


def series_figure(series, title, y_title, switches=()):
    """One line per layer over steps, each sum-op switch a dashed line.

    Args:
        series: `{layer_key: (steps, values)}`; values may contain None (not tapped that step).
        switches: switch records as dicts with `step` and `new` ({layer: op}).
    """
    data = [{"type": "scatter", "mode": _line_mode(len(steps)), "name": key, "x": list(steps),
             "y": _finite(values)} for key, (steps, values) in series.items()]
    shapes, annotations = switch_markers(switches)
    return {"data": data, "layout": _layout(title, "step", y_title, shapes=shapes,
                                            annotations=annotations)}


def histogram_figure(histograms, title="Forward log-values"):
    """Bar outlines of per-layer histograms.

    Args:
        histograms: `{layer_key: (edges [n+1], counts [n])}`.
    """
    data = []
    for key, (edges, counts) in histograms.items():
        edges, counts = np.asarray(edges, float), np.asarray(counts, float)
        centres = (edges[:-1] + edges[1:]) / 2
        total = counts.sum() or 1.0
        data.append({"type": "scatter", "mode": "lines", "line": {"shape": "hvh"}, "name": key,
                     "x": centres.tolist(), "y": (counts / total).tolist()})
    return {"data": data, "layout": _layout(title, "log-value", "fraction")}


def counts_figure(counts, title="Winner counts per child", quantity="selections (last step)"):
    """A heatmap of one layer's counts `[num_sums, num_children]` (sums as rows, numbered from
    0 at the top), with a colour bar naming `quantity`."""
    counts = np.asarray(counts, float)
    if counts.ndim != 2:
        raise ValueError(f"Expected `counts` of rank 2 [sums, children]. Received shape "
                         f"{counts.shape}")
    sums, children = counts.shape
    layout = _layout(title, "child", "sum", showlegend=False)
    layout["margin"] = {"l": 50, "r": 10, "t": 40, "b": 40}
    # whole numbers only on both axes; sum 0 at the top, as in a table
    layout["xaxis"].update(dtick=max(1, children // 8), tick0=0)
    layout["yaxis"].update(dtick=max(1, sums // 8), tick0=0, autorange="reversed")
    return {"data": [{"type": "heatmap", "z": counts.tolist(), "colorscale": "Viridis",
                      "colorbar": {"title": {"text": quantity, "side": "right"}},
                      "hovertemplate": "sum %{y}, child %{x}: %{z:.3g}<extra></extra>"}],
            "layout": layout}


def marginals_figure(probabilities, image_shape=None, evidence=None, value=1, truth=None):
    """Per-variable marginals: a heatmap of p(X_v = value) for images, else stacked bars.

    Args:
        probabilities: `[V, K]` per-variable distributions (rows sum to 1).
        image_shape: `(rows, cols)` with rows * cols = V to draw as an image.
        evidence: optional `[V]` bool; observed pixels get a marker.
        truth: optional `[V]` values of the row (images: drawn beside the marginals).
        value: the state whose probability the image shows.
    """
    p = np.asarray(probabilities, float)
    if p.ndim != 2:
        raise ValueError(f"Expected `probabilities` of shape [V, K]. Received shape {p.shape}")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 0 <= value < p.shape[1]:
        raise ValueError(f"Expected `value` to be a state in [0, {p.shape[1]}). "
                         f"Received: value={value!r}")
    if image_shape is not None:
        rows, cols = image_shape
        if rows * cols != p.shape[0]:
            raise ValueError(f"Expected `image_shape` with {p.shape[0]} pixels. "
                             f"Received: image_shape={tuple(image_shape)}")
        return _pixel_map(p[:, value], image_shape, evidence, 1.0, "Marginals", f"p(x={value})",
                          truth=truth, quantity=f"p(x = {value} | evidence)")
    observed = (np.zeros(p.shape[0], bool) if evidence is None
                else np.asarray(evidence, bool).reshape(-1))
    names = [f"X{v}" + (" (given)" if observed[v] else "") for v in range(p.shape[0])]
    data = [{"type": "bar", "name": f"= {k}", "x": names, "y": p[:, k].tolist()}
            for k in range(p.shape[1])]
    return {"data": data, "layout": _layout("Marginals", "variable", "probability",
                                            barmode="stack")}


def posterior_mean_figure(means, image_shape, evidence=None, vmax=1.0, truth=None):
    """E[X_v | evidence] as an image (grey levels, continuous values): a heatmap over
    [0, `vmax`], observed pixels marked as in `marginals_figure`.

    Args:
        means: `[V]` posterior means (observed pixels: their values).
        image_shape: `(rows, cols)` with rows * cols = V.
        truth: optional `[V]` values of the row, drawn beside the means.
    """
    means = np.asarray(means, float).reshape(-1)
    rows, cols = image_shape
    if rows * cols != means.shape[0]:
        raise ValueError(f"Expected `image_shape` with {means.shape[0]} pixels. "
                         f"Received: image_shape={tuple(image_shape)}")
    return _pixel_map(means, image_shape, evidence, float(vmax), "Posterior mean", "E[x]",
                      truth=truth, quantity="E[x | evidence]")


def _pixel_map(values, image_shape, evidence, vmax, title, colour_title, truth=None,
               quantity=None):
    """One value per pixel as a grey heatmap over [0, `vmax`] (upright: a heatmap draws z[0]
    at the bottom), observed pixels (`evidence`) marked with red squares named in the legend;
    with `truth` ([V], the row's own values) that image is drawn on the left, the map beside
    it. Trace 0 is always the map. Hover text names the row, column and `quantity`."""
    rows, cols = image_shape
    quantity = quantity or colour_title
    row_index = np.repeat(np.arange(rows)[::-1, None], cols, axis=1)     # z row -> image row
    image_axes = ("x2", "y2") if truth is not None else ("x", "y")

    def heatmap(z, axes, name, what, **extra):
        return {"type": "heatmap", "z": z.tolist(), "zmin": 0.0, "zmax": vmax,
                "colorscale": "Greys", "name": name, "xaxis": axes[0], "yaxis": axes[1],
                "customdata": row_index.tolist(),
                "hovertemplate": f"row %{{customdata}}, column %{{x}}<br>{what} = %{{z:.3f}}"
                                 "<extra></extra>", **extra}

    def observed(axes, legend):
        ys, xs = np.nonzero(np.asarray(evidence, bool).reshape(rows, cols)[::-1])
        return {"type": "scatter", "mode": "markers", "name": "observed (evidence)",
                "x": xs.tolist(), "y": ys.tolist(), "xaxis": axes[0], "yaxis": axes[1],
                "showlegend": legend, "hoverinfo": "skip",
                "marker": {"symbol": "square-open", "color": "#d62728", "size": 14,
                           "line": {"width": 2}}}

    z = np.asarray(values, float).reshape(rows, cols)[::-1]
    data = [heatmap(z, image_axes, quantity, quantity,
                    colorbar={"title": {"text": colour_title}})]
    if evidence is not None:
        data.append(observed(image_axes, True))
    layout = _layout(title, "", "", showlegend=evidence is not None, height=420)
    layout["legend"] = {"orientation": "h", "y": -0.02, "x": 0.5, "xanchor": "center"}
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": "",
            "title": {"text": ""}}
    layout["xaxis"], layout["yaxis"] = dict(axis), dict(axis, scaleanchor="x")
    if truth is not None:
        t = np.asarray(truth, float).reshape(rows, cols)[::-1]
        data.append(heatmap(t, ("x", "y"), "ground truth", "value", showscale=False))
        if evidence is not None:
            data.append(observed(("x", "y"), False))
        layout["xaxis"]["domain"] = [0.0, 0.42]
        layout["xaxis2"] = dict(axis, domain=[0.5, 0.92])
        layout["yaxis2"] = dict(axis, scaleanchor="x2")
        layout["annotations"] = [
            {"text": "this row (ground truth)", "xref": "x domain", "yref": "paper", "x": 0.5,
             "y": 1.0, "yanchor": "bottom", "showarrow": False, "font": {"size": 14}},
            {"text": quantity, "xref": "x2 domain", "yref": "paper", "x": 0.5, "y": 1.0,
             "yanchor": "bottom", "showarrow": False, "font": {"size": 14}}]
        layout["margin"] = {"l": 10, "r": 10, "t": 60, "b": 30}
    return {"data": data, "layout": layout}


def image_grid_figure(rows_of_images, row_titles, image_shape, masks=None):
    """Images side by side: one row per kind (original, masked, each completion method).

    Args:
        rows_of_images: list of `[N, V]` arrays, one per row of the grid.
        row_titles: a title per row.
        image_shape: `(rows, cols)` of one image.
        masks: optional `[N, V]` bool evidence; unobserved pixels of the "masked" row (the row
            titled "masked") are drawn grey.
    """
    if len(rows_of_images) != len(row_titles):
        raise ValueError(f"Expected one title per row. Received {len(rows_of_images)} rows and "
                         f"{len(row_titles)} titles")
    h, w = image_shape
    tiles = []
    for r, images in enumerate(rows_of_images):
        images = np.asarray(images, float)
        row = []
        for n, image in enumerate(images):
            tile = image.reshape(h, w).astype(float)
            if masks is not None and row_titles[r] == "masked":
                tile = np.where(np.asarray(masks[n], bool).reshape(h, w), tile, 0.5)
            row.append(np.pad(tile, ((1, 1), (1, 1)), constant_values=np.nan))
        tiles.append(np.concatenate(row, axis=1))
    # A heatmap draws z[0] at the bottom: flip the whole picture (row order and every image).
    z = np.concatenate(tiles, axis=0)[::-1]
    tick_vals = [(h + 2) * (len(tiles) - 1 - r) + (h + 2) / 2 for r in range(len(tiles))]
    # ~90 px per image on screen: a completion must be readable from the back of a room
    layout = _layout("Completions", "", "", showlegend=False,
                     height=max(240, 60 + 90 * len(tiles)))
    layout["yaxis"].update(scaleanchor="x", tickvals=tick_vals, ticktext=list(row_titles))
    layout["xaxis"].update(showticklabels=False)
    return {"data": [{"type": "heatmap", "z": np.where(np.isnan(z), None, z).tolist(),
                      "zmin": 0.0, "zmax": 1.0, "colorscale": "Greys", "showscale": False,
                      "hovertemplate": "pixel value %{z:.2f}<extra></extra>"}],
            "layout": layout}


def compare_figure(table, x="step", y="train_ll"):
    """Learning curves of several modes from the same start.

    Args:
        table: rows as dicts with `mode`, `step`, `wall_time`, `train_ll`, `test_ll`.
        x: "step" or "wall_time"; y: "train_ll" or "test_ll".
    """
    if x not in ("step", "wall_time") or y not in ("train_ll", "test_ll"):
        raise ValueError(f"Expected x in ('step', 'wall_time') and y in ('train_ll', 'test_ll'). "
                         f"Received: x={x!r}, y={y!r}")
    modes = list(dict.fromkeys(r["mode"] for r in table))
    data = []
    for mode in modes:
        rows = [r for r in table if r["mode"] == mode and r.get(y) is not None]
        data.append({"type": "scatter", "mode": "lines", "name": str(mode),
                     "x": [r[x] for r in rows], "y": _finite(r[y] for r in rows),
                     "line": {"color": op_colour(mode)}})
    which = "Train" if y == "train_ll" else "Test"
    layout = _layout(f"{which} log-likelihood by sum op (nats per sample)",
                     "step" if x == "step" else "training time (s)", "mean LL")
    if not table:                        # before a run: say what to do, not empty axes
        layout["xaxis"].update(visible=False)
        layout["yaxis"].update(visible=False)
        layout["annotations"] = [{"text": "Choose sum ops and steps, then press Compare",
                                  "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                                  "showarrow": False, "font": {"size": 16}}]
    return {"data": data, "layout": layout}
