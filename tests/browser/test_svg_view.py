"""The pan/zoom SVG viewer's JavaScript in headless Chromium, without JupyterLab: the widget's
ESM runs in a plain page against a stand-in anywidget model (get/set/on/off), on SVGs that
Graphviz drew of SPN graphs. Measures the default zoom (labels >= 10 px on screen, or natural
size), Fit, 1:1, wheel zoom about the pointer, drag, redraws and two displays of one model."""
import json

import pytest

from tests.browser.jupyter import CHROMIUM, CHROMIUM_FLAGS, missing_browser

REASON = missing_browser()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

NATURAL = 96 / 72
WIDTH = 1180                                     # the workbench's drawing width at 1400 px

_PAGE = """<!doctype html><html><body style="margin:0">
<div id="a" style="width:%dpx"></div><div id="b" style="width:600px"></div></body></html>"""

# A stand-in for anywidget's model: state, change events.
_MODEL = """
window.makeModel = (state) => {
  const handlers = {};
  return {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (handlers["change:" + k] || []).slice().forEach((f) => f()); },
    on: (e, f) => { (handlers[e] = handlers[e] || []).push(f); },
    off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
    save_changes: () => {}, send: (m) => { (window.sent = window.sent || []).push(m); },
    handlers,
  };
};
"""


def _svg(dot):
    from spnlab.graph.render import render_svg
    return render_svg(dot)


@pytest.fixture(scope="module")
def svgs():
    from spnlab.graph import naive_bayes_mixture, poon_domingos_example, to_dot
    return {"small": _svg(to_dot(poon_domingos_example().root)),                 # 206 pt wide
            "wide": _svg(to_dot(naive_bayes_mixture(40, 2).root, weights="width")),  # 2870 pt
            "medium": _svg(to_dot(naive_bayes_mixture(8, 2).root, weights="width",
                                  split_leaves=True))}                               # 566 pt


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    from spnlab.widgets.svg_view import SvgView
    esm = SvgView._esm.replace("export default", "window.svgWidget =")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(_PAGE % WIDTH)
        page.add_style_tag(content=SvgView._css)
        page.add_script_tag(content=_MODEL + esm)
        page.errors = errors
        yield page
        browser.close()


def _show(page, svg, target="a", height="600px"):
    """Render a fresh model with `svg` into #target; returns the root's dataset and sizes."""
    page.evaluate("""([svg, target, height]) => {
        const el = document.getElementById(target);
        el.replaceChildren();
        window.model = makeModel({value: svg, height, min_label_px: 10, filename: "spn"});
        window.cleanup = svgWidget.render({model: window.model, el});
    }""", [svg, target, height])
    page.wait_for_timeout(50)
    return _state(page, target)


def _state(page, target="a"):
    return page.evaluate("""(target) => {
        const root = document.querySelector('#' + target + ' .spnlab-svgview');
        const svg = root.querySelector('svg');
        const vb = svg.getAttribute('viewBox').trim().split(/[\\s,]+/).map(Number);
        const paneEl = root.querySelector('.spnlab-svgview-pane');
        const box = paneEl.getBoundingClientRect();      // inside the border:
        const pane = {left: box.left + paneEl.clientLeft, top: box.top + paneEl.clientTop,
                      width: paneEl.clientWidth, height: paneEl.clientHeight};
        const r = svg.getBoundingClientRect();
        // the smallest node label as drawn: its font size times the screen transform
        let least = Infinity;
        for (const t of svg.querySelectorAll('g.node text'))
            least = Math.min(least, parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
        let topNode = null;                               // the highest node (an SPN's root)
        for (const n of svg.querySelectorAll('g.node')) {
            const b = n.getBoundingClientRect();
            if (!topNode || b.top < topNode.top - 0.5) topNode = b;
        }
        return {scale: parseFloat(root.dataset.scale), labelPx: parseFloat(root.dataset.labelPx),
                topNodeX: topNode.left + topNode.width / 2 - pane.left,
                measuredPx: least, vbW: vb[2], vbH: vb[3], left: r.left - pane.left,
                top: r.top - pane.top, width: r.width, paneW: pane.width, paneH: pane.height,
                paneX: pane.left, paneY: pane.top,
                zoom: root.querySelector('.spnlab-svgview-zoom').textContent};
    }""", target)


def _click(page, text, target="a"):
    page.locator(f"#{target} .spnlab-svgview-button", has_text=text).first.click()
    return _state(page, target)


def test_small_drawing_is_shown_at_natural_size_and_labels_measure_their_font(page, svgs):
    st = _show(page, svgs["small"])
    assert st["scale"] == pytest.approx(NATURAL)               # fits, but never enlarged
    assert st["width"] == pytest.approx(st["vbW"] * NATURAL, abs=1)
    assert st["measuredPx"] == pytest.approx(st["labelPx"], rel=1e-3)
    assert st["labelPx"] == pytest.approx(12 * NATURAL, rel=1e-3)       # dot.py: fontsize 12
    assert st["zoom"] == "100%" and page.errors == []


def test_wide_drawing_defaults_to_natural_size_when_fit_would_shrink_labels(page, svgs):
    st = _show(page, svgs["wide"])
    fit = min(st["paneW"] / st["vbW"], 600 / st["vbH"])
    assert fit * 10 < 10                      # fitting would draw the 10 pt labels below 10 px
    assert st["scale"] == pytest.approx(NATURAL) and st["measuredPx"] >= 10
    # the root (the top node) is in the middle of the view
    assert st["topNodeX"] == pytest.approx(st["paneW"] / 2, abs=2)
    fitted = _click(page, "Fit")
    assert fitted["scale"] == pytest.approx(fit, rel=1e-3)
    assert fitted["width"] <= fitted["paneW"] + 1 and fitted["measuredPx"] < 10
    natural = _click(page, "1:1")
    assert natural["scale"] == pytest.approx(NATURAL, rel=1e-6) and natural["zoom"] == "100%"
    bigger = _click(page, "+")
    assert bigger["scale"] == pytest.approx(1.25 * NATURAL, rel=1e-6)
    assert _click(page, "\u2212")["scale"] == pytest.approx(NATURAL, rel=1e-6)


def test_a_wide_drawing_whose_root_is_off_its_middle_shows_the_root(page):
    # a root over a wide subtree and a small one: Graphviz puts it left of the middle
    dot = ("digraph { node [fontsize=10]; root -> wide; root -> small; "
           + " ".join(f"wide -> w{i};" for i in range(70)) + " small -> s; }")
    st = _show(page, _svg(dot))
    assert st["width"] > st["paneW"] and st["scale"] == pytest.approx(NATURAL)
    middle_left = (st["paneW"] - st["width"]) / 2          # where centring the drawing puts it
    assert abs(st["left"] - middle_left) > 50               # so the root is not at its middle
    assert st["topNodeX"] == pytest.approx(st["paneW"] / 2, abs=2)
    assert st["left"] <= 0 and st["left"] + st["width"] >= st["paneW"] - 1   # no blank margin


def test_fit_is_the_default_when_it_keeps_labels_readable(page, svgs):
    st = _show(page, svgs["medium"], target="b")              # a 600 px wide view
    fit = min(st["paneW"] / st["vbW"], 600 / st["vbH"])
    assert 1 <= fit < NATURAL                 # fits only shrunk, and 10 pt labels stay >= 10 px                                     # smallest labels: 10 pt leaves
    assert st["scale"] == pytest.approx(fit, rel=1e-3) and st["measuredPx"] >= 10


def test_wheel_zooms_about_the_pointer_and_drag_pans(page, svgs):
    st = _show(page, svgs["wide"])
    px, py = st["paneX"] + 300, st["paneY"] + 100
    # the drawing's point under the pointer, in SVG units
    ux, uy = (300 - st["left"]) / st["scale"], (100 - st["top"]) / st["scale"]
    page.mouse.move(px, py)
    page.mouse.wheel(0, -200)
    page.wait_for_timeout(100)
    zoomed = _state(page)
    assert zoomed["scale"] > st["scale"]
    assert zoomed["left"] + ux * zoomed["scale"] == pytest.approx(300, abs=1.5)
    assert zoomed["top"] + uy * zoomed["scale"] == pytest.approx(100, abs=1.5)
    page.mouse.down()
    page.mouse.move(px - 120, py + 40, steps=4)
    page.mouse.up()
    moved = _state(page)
    assert (moved["left"] - zoomed["left"], moved["top"] - zoomed["top"]) == \
        (pytest.approx(-120, abs=1), pytest.approx(40, abs=1))
    assert moved["scale"] == zoomed["scale"]


def test_a_redraw_keeps_the_zoom_and_a_new_drawing_gets_its_default(page, svgs):
    _show(page, svgs["wide"])
    zoomed = _click(page, "+")
    recoloured = svgs["wide"].replace('fill="none"', 'fill="#eeeeee"', 3)
    page.evaluate("(svg) => window.model.set('value', svg)", recoloured)
    assert _state(page)["scale"] == pytest.approx(zoomed["scale"])
    page.evaluate("(svg) => window.model.set('value', svg)", svgs["small"])
    assert _state(page)["scale"] == pytest.approx(NATURAL)


def test_one_model_in_two_displays_and_after_a_reload(page, svgs):
    page.evaluate("""(svg) => {
        for (const id of ['a', 'b']) document.getElementById(id).replaceChildren();
        window.model = makeModel({value: svg, height: '600px', min_label_px: 10,
                                  filename: 'spn'});
        window.cleanups = ['a', 'b'].map((id) => svgWidget.render(
            {model: window.model, el: document.getElementById(id)}));
    }""", svgs["small"])
    a, b = _state(page, "a"), _state(page, "b")
    assert a["vbW"] == b["vbW"] and a["scale"] == b["scale"] == pytest.approx(NATURAL)
    page.evaluate("(svg) => window.model.set('value', svg)", svgs["wide"])
    assert _state(page, "a")["vbW"] == _state(page, "b")["vbW"] > a["vbW"]
    # one display goes away (a closed cell / a reload): its handlers are removed
    page.evaluate("() => window.cleanups[0]()")
    assert page.evaluate("() => window.model.handlers['change:value'].length") == 1
    assert page.errors == []


def test_svg_export_downloads_the_text(page, svgs):
    _show(page, svgs["small"])
    with page.expect_download() as info:
        page.locator("#a .spnlab-svgview-button", has_text="SVG").click()
    download = info.value
    assert download.suggested_filename == "spn.svg"
    assert open(download.path(), encoding="utf-8").read() == svgs["small"]
    with page.expect_download() as info:
        page.locator("#a .spnlab-svgview-button", has_text="PNG").click()
    png = open(info.value.path(), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and info.value.suggested_filename == "spn.png"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    st = _state(page)
    assert (width, height) == (round(st["vbW"] * 2 * NATURAL), round(st["vbH"] * 2 * NATURAL))


def test_a_click_on_a_node_sends_its_id_and_a_drag_does_not(page, svgs):
    _show(page, svgs["small"])
    page.evaluate("() => { window.sent = []; }")
    box = page.locator("#a g.node", has=page.locator("title", has_text="P1")).first
    box.click()
    sent = page.evaluate("() => window.sent")
    assert sent == [{"click": "P1", "tooltip": "P1 (Product)\nscope: {X1, X2}"}]
    b = box.bounding_box()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + 60, b["y"] + 30, steps=3)
    page.mouse.up()
    assert page.evaluate("() => window.sent") == sent
