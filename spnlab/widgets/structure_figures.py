"""Pure functions from a structure learner's recorded decisions to plotly figure dicts (no
widgets, no TensorFlow): the slice being decided, the dependency graph behind a variable split,
the clusters of an instance split, a leaf's distribution, the Chow-Liu tree of an HCLT, and the
validation curve. Each returns `{"data": [...], "layout": {...}}`.
"""
import math

import numpy as np

COMPONENT_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                     "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


def _names(cols, names):
    return [names[c] if names is not None else f"X{c + 1}" for c in cols]


def _count(number, noun):
    """`1 variable`, `3 variables`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _base_layout(title, **extra):
    return {"title": {"text": title}, "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "height": 300, "showlegend": False, **extra}


def shown_rows(rows, labels=None, max_rows=200):
    """The row positions (into `rows`) a slice picture shows: at most `max_rows`, evenly
    spaced, grouped by cluster label when `labels` is given (stable within a cluster)."""
    order = np.arange(len(rows)) if labels is None else np.argsort(labels, kind="stable")
    if len(order) > max_rows:
        order = order[np.linspace(0, len(order) - 1, max_rows).round().astype(int)]
    return order


def slice_figure(data, decision, max_rows=200, names=None):
    """The slice of `decision` as a rows x variables picture of the training `data` (rows
    subsampled to `max_rows`; for an instance split, grouped by cluster with a line between)."""
    labels = decision.details.get("labels") if decision.kind == "sum" else None
    shown = shown_rows(decision.rows, labels, max_rows)
    values = data[np.ix_(decision.rows[shown], list(decision.cols))]
    labels_x = _names(decision.cols, names)
    trace = {"type": "heatmap", "z": values.tolist(), "x": labels_x,
             "colorscale": "Greys", "showscale": False,
             "hovertemplate": "%{x}: %{z}<extra></extra>"}
    shapes = []
    if labels is not None:
        sorted_labels = np.asarray(labels)[shown]
        for cut in np.flatnonzero(np.diff(sorted_labels)) + 0.5:
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": cut,
                           "y1": cut, "line": {"color": "#d62728", "width": 2}})
    title = (f"slice {decision.slice_id}: {_count(len(decision.rows), 'row')} x "
             f"{_count(len(decision.cols), 'variable')}" + (f" ({len(shown)} rows shown)" if len(shown) < len(decision.rows)
                             else ""))
    return {"data": [trace], "layout": _base_layout(
        title, shapes=shapes, yaxis={"title": {"text": "rows"}, "autorange": "reversed"})}


def circle_positions(count):
    """`[count, 2]` points on the unit circle, the first at the top, clockwise."""
    angles = math.pi / 2 - 2 * math.pi * np.arange(count) / max(count, 1)
    return np.column_stack([np.cos(angles), np.sin(angles)])


def dependency_figure(decision, names=None):
    """The pairwise dependency graph behind a LearnSPN decision: one marker per variable of the
    slice, coloured by connected component, and one line per dependent pair (width grows with
    the test statistic; hover gives it and the p-value)."""
    details = decision.details
    if "dependent" not in details:
        raise ValueError(f"Expected a decision with a variable-split test (a product or sum of "
                         f"LearnSPN). Received: kind={decision.kind!r}")
    cols = list(decision.cols)
    components = details["components"]
    component_of = {c: k for k, comp in enumerate(components) for c in comp}
    xy = circle_positions(len(cols))
    statistic, p_values = details["statistic"], details.get("p_values")
    dependent = np.argwhere(np.triu(details["dependent"], 1))
    top = max((statistic[i, j] for i, j in dependent), default=1.0) or 1.0
    # One trace per (component, width band): a few traces even for thousands of pairs (plants:
    # 2,151 dependent pairs at its first split), lines separated by None.
    groups = {}
    for i, j in dependent:
        band = int(round(4 * statistic[i, j] / top))
        group = groups.setdefault((component_of.get(cols[i], 0), band),
                                  {"x": [], "y": [], "text": []})
        hover = f"{_names([cols[i]], names)[0]} - {_names([cols[j]], names)[0]}: " \
                f"statistic {statistic[i, j]:.3g}"
        if p_values is not None:
            hover += f", p = {p_values[i, j]:.2g}"
        group["x"] += [xy[i, 0], xy[j, 0], None]
        group["y"] += [xy[i, 1], xy[j, 1], None]
        group["text"] += [hover, hover, None]
    traces = [{"type": "scatter", "mode": "lines", "x": g["x"], "y": g["y"], "text": g["text"],
               "hoverinfo": "text",
               "line": {"color": COMPONENT_COLOURS[component % len(COMPONENT_COLOURS)],
                        "width": 1 + band}}
              for (component, band), g in sorted(groups.items())]
    colours = [COMPONENT_COLOURS[component_of.get(c, 0) % len(COMPONENT_COLOURS)] for c in cols]
    traces.append({"type": "scatter", "mode": "markers+text", "x": xy[:, 0].tolist(),
                   "y": xy[:, 1].tolist(), "text": _names(cols, names),
                   "textposition": "top center", "marker": {"size": 12, "color": colours},
                   "hoverinfo": "text"})
    title = (f"{len(dependent)} dependent pairs, {len(components)} "
             f"component{'s' if len(components) != 1 else ''}")
    axis = {"visible": False, "range": [-1.3, 1.3]}
    return {"data": traces, "layout": _base_layout(title, xaxis=axis,
                                                   yaxis={**axis, "scaleanchor": "x"})}


def clusters_figure(decision, names=None):
    """An instance split: the cluster sizes (bars) and centres (mean value of each variable
    per cluster, a heatmap)."""
    details = decision.details
    if decision.kind != "sum":
        raise ValueError(f"Expected an instance split (kind 'sum'). Received: "
                         f"kind={decision.kind!r}")
    sizes, centers = details["sizes"], details["centers"]
    clusters = [f"cluster {k}" for k in range(len(sizes))]
    bars = {"type": "bar", "x": clusters, "y": [int(s) for s in sizes], "xaxis": "x",
            "yaxis": "y", "marker": {"color": COMPONENT_COLOURS[:len(sizes)]},
            "hovertemplate": "%{x}: %{y} rows<extra></extra>"}
    heat = {"type": "heatmap", "z": np.asarray(centers).tolist(), "x": _names(decision.cols, names),
            "y": clusters, "xaxis": "x2", "yaxis": "y2", "colorscale": "Viridis", "zmin": 0,
            "colorbar": {"title": {"text": "mean"}}}
    layout = _base_layout(f"{len(sizes)} clusters of {', '.join(str(int(s)) for s in sizes)} rows",
                          xaxis={"domain": [0, 0.25]}, yaxis={"title": {"text": "rows"}},
                          xaxis2={"domain": [0.35, 1]}, yaxis2={"anchor": "x2"})
    return {"data": [bars, heat], "layout": layout}


def leaf_figure(decision, names=None):
    """A leaf's distribution: P(X = v) per variable and value (factorised), the normals' means
    with +-1 scale (continuous), or the Chow-Liu tree's root marginal and edges."""
    details = decision.details
    if decision.kind != "leaf":
        raise ValueError(f"Expected a leaf decision. Received: kind={decision.kind!r}")
    labels = _names(decision.cols, names)
    if details["leaf"] == "factorized":
        probs = np.asarray(details["probabilities"])                # [n, K]
        traces = [{"type": "bar", "name": f"= {v}", "x": labels, "y": probs[:, v].tolist()}
                  for v in range(1, probs.shape[1])] if probs.shape[1] > 1 else []
        layout = _base_layout(f"factorised leaf over {_count(len(labels), 'variable')}",
                              yaxis={"title": {"text": "P(X = value)"}, "range": [0, 1]},
                              showlegend=probs.shape[1] > 2, barmode="group")
        return {"data": traces, "layout": layout}
    if details["leaf"] == "normal":
        trace = {"type": "scatter", "mode": "markers", "x": labels,
                 "y": np.asarray(details["loc"]).tolist(),
                 "error_y": {"type": "data", "array": np.asarray(details["scale"]).tolist()}}
        return {"data": [trace], "layout": _base_layout(
            f"normal leaves over {_count(len(labels), 'variable')}", yaxis={"title": {"text": "mean"}})}
    tree = details["tree"]
    return tree_figure(tree.parents, tree.mutual_information, decision.cols, names,
                       title=f"Chow-Liu tree over {len(labels)} variables")


def tree_figure(parents, mutual_information, cols=None, names=None, attached=None,
                title=None, new=None):
    """A (partial) Chow-Liu tree: variables on a circle, one line per tree edge with width by
    its mutual information; `attached` limits it to the variables joined so far and `new`
    (a variable) draws its edge in red."""
    cols = list(range(len(parents))) if cols is None else list(cols)
    present = set(range(len(parents)) if attached is None else (int(v) for v in attached))
    xy = circle_positions(len(parents))
    edges = [(v, int(p)) for v, p in enumerate(parents) if p >= 0 and v in present
             and int(p) in present]
    top = max((mutual_information[v, p] for v, p in edges), default=1.0) or 1.0
    traces = []
    for v, p in edges:
        colour = "#d62728" if new is not None and v == new else "#1f77b4"
        traces.append({"type": "scatter", "mode": "lines", "x": [xy[v, 0], xy[p, 0]],
                       "y": [xy[v, 1], xy[p, 1]], "hoverinfo": "text",
                       "text": f"{_names([cols[p]], names)[0]} -> {_names([cols[v]], names)[0]}"
                               f": MI {mutual_information[v, p]:.3g} nats",
                       "line": {"color": colour, "width": 1 + 4 * mutual_information[v, p] / top}})
    shown = sorted(present)
    traces.append({"type": "scatter", "mode": "markers+text", "x": xy[shown, 0].tolist(),
                   "y": xy[shown, 1].tolist(), "text": _names([cols[v] for v in shown], names),
                   "textposition": "top center", "marker": {"size": 10, "color": "#444"},
                   "hoverinfo": "text"})
    axis = {"visible": False, "range": [-1.3, 1.3]}
    return {"data": traces, "layout": _base_layout(
        title or f"tree over {len(shown)} of {len(parents)} variables", xaxis=axis,
        yaxis={**axis, "scaleanchor": "x"})}


def structure_curve_figure(curve, reference=None, reference_label="after parameter training"):
    """Validation log-likelihood against the number of decisions (`curve`: `(decisions,
    valid_ll)` pairs), with an optional horizontal `reference` line."""
    x = [int(p[0]) for p in curve]
    y = [float(p[1]) for p in curve]
    data = [{"type": "scatter", "mode": "lines+markers" if len(x) < 60 else "lines",
             "name": "validation LL", "x": x, "y": y}]
    shapes = []
    if reference is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": reference,
                       "y1": reference, "line": {"dash": "dash", "color": "#2ca02c"}})
        data.append({"type": "scatter", "mode": "lines", "name": reference_label,
                     "x": [None], "y": [None], "line": {"dash": "dash", "color": "#2ca02c"}})
    return {"data": data, "layout": _base_layout(
        "structure learning", shapes=shapes, showlegend=reference is not None,
        xaxis={"title": {"text": "decisions"}},
        yaxis={"title": {"text": "validation log-likelihood (nats)"}})}
