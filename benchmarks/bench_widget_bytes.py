"""What displaying a workbench sends to the browser: the widgets' states in bytes (no browser).

    python benchmarks/bench_widget_bytes.py
    python benchmarks/bench_widget_bytes.py --presets classroom dgcspn

Prints, per preset, the number of widget models the workbench opens and the bytes of their
JSON states, split into the plots, the graph drawing, and the rest; and the one-off plotly.js
library the plots share (sent once per kernel). For comparison it prints the state of one
plotly `FigureWidget` (which the views used before: each carried plotly's bundle).
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _size(widget):
    state = widget.get_state()
    return sum(len(v) if isinstance(v, (bytes, memoryview)) else len(json.dumps(v, default=str))
               for v in state.values())


def _instances():
    """Every live widget model by id (ipywidgets 8 keeps them in `widget._instances`)."""
    from ipywidgets.widgets import widget
    return widget._instances


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["classroom", "poon_domingos", "dgcspn"])
    args = parser.parse_args()
    import plotly.graph_objects as go

    from spnlab.widgets import Workbench
    from spnlab.widgets import plot as plot_module
    from spnlab.widgets.plot import Plot

    for preset in args.presets:
        before = set(_instances())
        start = time.perf_counter()
        wb = Workbench(preset, seed=0)
        built = time.perf_counter() - start
        wb.trainer.step_button.click()
        opened = [_instances()[k] for k in set(_instances()) - before]
        plots = [w for w in opened if isinstance(w, Plot)]
        library = [w for w in opened if w is plot_module._library]
        graph = [w for w in opened if type(w).__module__.startswith("spnlab.widgets.svg")]
        rest = [w for w in opened if w not in plots and w not in library and w not in graph]
        kib = {name: sum(map(_size, group)) / 1024 for name, group in
               (("plots", plots), ("graph", graph), ("rest", rest), ("plotly.js", library))}
        print(f"{preset:14s} {len(opened):4d} widget models, built in {built:.1f} s: "
              + ", ".join(f"{name} {size:,.0f} KiB" for name, size in kib.items()))
        wb.close()
    start = time.perf_counter()
    figure_widget = go.FigureWidget()
    print(f"for comparison, one empty plotly FigureWidget: {_size(figure_widget) / 1024:,.0f} KiB,"
          f" made in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
