"""How fast a node graph is drawn, from the DOT text to pixels in Chromium (the evidence for
drawing with Graphviz inside our own pan/zoom viewer; see the Graph view's docstring).

    python benchmarks/bench_graph_render.py
    python benchmarks/bench_graph_render.py --vars 16 64 256 --no-browser

For random SPNs of growing size (`spnlab.graph.random_spn`) and the built-in presets' whole
node graphs it prints: nodes and edges, the DOT text's build time, Graphviz's first layout
(`dot`, and the WebAssembly fallback), a redraw reusing the layout (`LayoutCache`, what a
training step costs), the SVG's size, and, when Chromium and playwright are installed, the time
from handing the SVG to the page to the next painted frame.
"""
import argparse
import os
import shutil
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _ms(fn, repeat=3):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), value


def _graphs(num_vars, presets):
    from spnlab.graph import random_spn
    for n in num_vars:
        yield f"random_spn({n})", random_spn(n, seed=0, max_children=3).root
    if presets:
        from spnlab.lab import Session
        for name in presets:
            yield name, Session(name, seed=0, test_every=0).graph(None).graph.root


class _Browser:
    """A headless Chromium page that paints SVG text (None without playwright/Chromium)."""

    def __init__(self):
        from playwright.sync_api import sync_playwright
        self._p = sync_playwright().start()
        self.browser = self._p.chromium.launch(executable_path="/usr/bin/chromium",
                                               args=["--no-sandbox", "--disable-gpu"])
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 800})
        self.page.set_content("<div id=pane style='width:1180px;height:600px;overflow:hidden'>"
                              "</div>")

    def paint_ms(self, svg):
        return self.page.evaluate("""(svg) => new Promise((done) => {
            const start = performance.now();
            document.getElementById('pane').innerHTML = svg;
            document.querySelectorAll('#pane g.node').length;      // force the parse
            requestAnimationFrame(() => requestAnimationFrame(
                () => done(performance.now() - start)));
        })""", svg)

    def close(self):
        self.browser.close()
        self._p.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vars", nargs="+", type=int, default=[8, 10, 12, 14])
    parser.add_argument("--presets", nargs="*",
                        default=["classroom", "dgcspn", "digits", "poon_domingos"])
    parser.add_argument("--timeout", type=float, default=30.0, help="per Graphviz layout (s)")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    from spnlab.graph import to_dot, topological_order
    from spnlab.graph.render import LayoutCache, render_svg

    browser = None
    if not args.no_browser and os.path.exists("/usr/bin/chromium"):
        try:
            browser = _Browser()
        except ImportError:
            print("(playwright is not installed: no paint times)")
    engines = ["dot"] if shutil.which("dot") else []
    engines.append("wasm")
    print(f"{'graph':>22} {'nodes':>6} {'edges':>6} {'to_dot':>7} "
          + " ".join(f"{'layout ' + e:>12}" for e in engines)
          + f" {'redraw':>7} {'SVG KiB':>8} {'paint':>7}   (ms)")
    for name, root in _graphs(args.vars, args.presets):
        order = topological_order(root)
        edges = sum(len(getattr(n, "child_outputs", ())) * getattr(n, "num_sums", 1)
                    for n in order)
        dot_ms, dot = _ms(lambda: to_dot(root, weights="width"))
        layouts = []
        for engine in engines:
            try:
                ms, _ = _ms(lambda: render_svg(dot, engine=engine, timeout=args.timeout),
                            repeat=1)
                layouts.append(f"{ms:12.0f}")
            except TimeoutError:
                layouts.append(f"{'> ' + format(args.timeout * 1e3, '.0f'):>12}")
        row = (f"{name:>22} {len(order):6d} {edges:6d} {dot_ms:7.1f} " + " ".join(layouts))
        if any(x.strip().startswith(">") for x in layouts):
            print(row + "   (no layout: too slow to draw node by node)", flush=True)
            continue
        cache = LayoutCache(timeout=args.timeout)
        cache.render(dot)
        redraw_ms, svg = _ms(lambda: cache.render(dot))
        paint = f"{browser.paint_ms(svg):7.0f}" if browser else f"{'-':>7}"
        print(row + f" {redraw_ms:7.0f} {len(svg) / 1024:8.0f} {paint}", flush=True)
    if browser:
        browser.close()


if __name__ == "__main__":
    main()
