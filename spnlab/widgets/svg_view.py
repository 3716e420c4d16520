"""An SVG drawing in a pan/zoom viewer: wheel zoom about the pointer, drag to pan, Fit, 1:1
(natural size), + and -, and export as SVG or PNG.

The SVG text is the widget's synced `value`, so a browser reload or a second display of the
same widget draws what the kernel holds now. Everything runs in the browser (no network, no
CDN): the view only moves and resizes the `<svg>` element, so zooming re-draws vectors crisply.

Default zoom: the natural size (1 SVG unit = 1 pt = 4/3 CSS px, Graphviz's unit), or the fitted
size when that is smaller and keeps the smallest node label at least `min_label_px` CSS px on
screen (the smallest `font-size` of the labels of `g.node` groups, Graphviz's node class). The
root element reports its screen scale as `data-scale` (CSS px per SVG unit) and the smallest
node label's on-screen size as `data-label-px`, for tests and for the curious. A click on a
node (without dragging) reaches Python: `on_click(callback)` gets the node's Graphviz id.
"""
import re

import anywidget
import traitlets

_ESM = r"""
const NATURAL = 96 / 72;                       // CSS px per pt (Graphviz's SVG unit)
const MIN_SCALE = 0.01, MAX_SCALE = 40;

function parseSvg(text) {
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg" || doc.getElementsByTagName("parsererror").length)
    return null;
  return document.importNode(svg, true);
}

function size(svg) {                           // the drawing's size in SVG units
  const vb = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
  if (vb.length === 4 && vb[2] > 0 && vb[3] > 0) return { w: vb[2], h: vb[3] };
  return { w: parseFloat(svg.getAttribute("width")) || 100,
           h: parseFloat(svg.getAttribute("height")) || 100 };
}

function smallestLabel(svg) {                  // in SVG units (times the graph group's scale)
  let texts = svg.querySelectorAll("g.node text");
  if (!texts.length) texts = svg.querySelectorAll("text");
  let least = Infinity;
  for (const t of texts) {
    const f = parseFloat(t.getAttribute("font-size"));
    if (f > 0) least = Math.min(least, f);
  }
  const g = svg.querySelector("g.graph");
  const m = g && /scale\(\s*([\d.]+)/.exec(g.getAttribute("transform") || "");
  return (least === Infinity ? 14 : least) * (m ? parseFloat(m[1]) : 1);
}

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function button(text, title, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.title = title;
  b.className = "spnlab-svgview-button";
  b.addEventListener("click", onClick);
  return b;
}

export default {
  render({ model, el }) {
    const root = document.createElement("div");
    root.className = "spnlab-svgview";
    const bar = document.createElement("div");
    bar.className = "spnlab-svgview-bar";
    const pane = document.createElement("div");
    pane.className = "spnlab-svgview-pane";
    const zoomText = document.createElement("span");
    zoomText.className = "spnlab-svgview-zoom";
    root.append(bar, pane);
    el.appendChild(root);

    // s: CSS px per SVG unit; (x, y): the drawing's top-left corner in the pane.
    const st = { svg: null, w: 0, h: 0, font: 14, s: NATURAL, x: 0, y: 0, touched: false };

    const maxHeight = () => parseFloat(model.get("height")) || 600;
    const paneWidth = () => pane.clientWidth || root.clientWidth || el.clientWidth || 0;

    function apply() {
      if (!st.svg) return;
      st.svg.style.width = `${st.w * st.s}px`;
      st.svg.style.height = `${st.h * st.s}px`;
      st.svg.style.left = `${st.x}px`;
      st.svg.style.top = `${st.y}px`;
      root.dataset.scale = String(st.s);
      root.dataset.labelPx = String(st.font * st.s);
      zoomText.textContent = `${Math.round(100 * st.s / NATURAL)}%`;
    }

    function fitScale() {
      const W = paneWidth();
      if (!W) return NATURAL;
      return Math.min(W / st.w, maxHeight() / st.h);
    }

    function center(s) {
      const W = paneWidth(), H = pane.clientHeight || maxHeight();
      st.s = s;
      st.x = (W - st.w * s) / 2;                       // wide drawings: the middle (see below)
      st.y = st.h * s < H ? (H - st.h * s) / 2 : 0;    // tall ones: show the top (root)
    }

    function showDefault() {
      const fit = fitScale(), minPx = model.get("min_label_px");
      const s = fit >= NATURAL ? NATURAL : (fit * st.font >= minPx ? fit : NATURAL);
      pane.style.height = `${Math.max(80, Math.min(maxHeight(), st.h * s + 2))}px`;
      center(s);
      st.touched = false;
      apply();
      centerTopNode();
    }

    // A drawing wider than the pane shows its top node (the root of an SPN) in the middle:
    // Graphviz places the root above its children, not always above the drawing's middle.
    function centerTopNode() {
      const W = paneWidth();
      if (!st.svg || !W || st.w * st.s <= W) return;
      let top = null;
      for (const node of st.svg.querySelectorAll("g.node")) {
        const r = node.getBoundingClientRect();
        if (r.width && (!top || r.top < top.top - 0.5)) top = r;
      }
      if (!top) return;
      const middle = top.left - pane.getBoundingClientRect().left + top.width / 2;
      st.x = Math.min(0, Math.max(W - st.w * st.s, st.x + W / 2 - middle));
      apply();
    }

    function zoomAt(px, py, factor) {
      const s = Math.min(MAX_SCALE, Math.max(MIN_SCALE, st.s * factor));
      st.x = px - (px - st.x) * (s / st.s);
      st.y = py - (py - st.y) * (s / st.s);
      st.s = s;
      st.touched = true;
      apply();
    }

    function zoomAtMiddle(factor) {
      zoomAt(paneWidth() / 2, pane.clientHeight / 2, factor);
    }

    function load() {
      const svg = parseSvg(model.get("value"));
      pane.replaceChildren();
      if (!svg) { st.svg = null; delete root.dataset.scale; return; }
      const { w, h } = size(svg);
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      svg.removeAttribute("style");
      svg.classList.add("spnlab-svgview-svg");
      pane.appendChild(svg);
      // A redraw of the same drawing (new colours after a step) keeps the user's zoom and pan.
      const same = st.touched && Math.abs(w - st.w) < 0.5 && Math.abs(h - st.h) < 0.5;
      Object.assign(st, { svg, w, h, font: smallestLabel(svg) });
      if (same) apply(); else showDefault();
    }

    bar.append(
      button("Fit", "fit the whole drawing into the view", () => {
        center(fitScale()); st.touched = true; apply(); }),
      button("1:1", "natural size (1 pt = 4/3 px)", () => zoomAtMiddle(NATURAL / st.s)),
      button("+", "zoom in (or turn the mouse wheel)", () => zoomAtMiddle(1.25)),
      button("\u2212", "zoom out", () => zoomAtMiddle(0.8)),
      zoomText,
      button("SVG \u2193", "download the drawing as SVG", () => download(
        new Blob([model.get("value")], { type: "image/svg+xml" }), `${model.get("filename")}.svg`)),
      button("PNG \u2193", "download the drawing as PNG (natural size x2, white background)", () => {
        if (!st.svg) return;
        const img = new Image();
        const url = URL.createObjectURL(new Blob([model.get("value")], { type: "image/svg+xml" }));
        img.onload = () => {
          // Browsers refuse canvases much beyond 16k px a side or ~250 M px: scale down to fit.
          let k = 2 * NATURAL;
          k = Math.min(k, 16000 / st.w, 16000 / st.h, Math.sqrt(1.2e8 / (st.w * st.h)));
          const canvas = document.createElement("canvas");
          canvas.width = Math.max(1, Math.round(st.w * k));
          canvas.height = Math.max(1, Math.round(st.h * k));
          const ctx = canvas.getContext("2d");
          ctx.fillStyle = "white";
          ctx.fillRect(0, 0, canvas.width, canvas.height);
          ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
          URL.revokeObjectURL(url);
          canvas.toBlob((b) => b && download(b, `${model.get("filename")}.png`), "image/png");
        };
        img.src = url;
      }),
    );

    const onWheel = (e) => {
      if (!st.svg) return;
      e.preventDefault();
      const r = pane.getBoundingClientRect();
      zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.0015));
    };
    let drag = null;
    const onDown = (e) => {
      if (!st.svg || e.button !== 0) return;
      const node = e.target.closest && e.target.closest("g.node");
      drag = { id: e.pointerId, x: e.clientX - st.x, y: e.clientY - st.y, x0: e.clientX,
               y0: e.clientY, node };
      pane.setPointerCapture(e.pointerId);
      pane.classList.add("dragging");
    };
    const onMove = (e) => {
      if (!drag || e.pointerId !== drag.id) return;
      st.x = e.clientX - drag.x;
      st.y = e.clientY - drag.y;
      st.touched = true;
      apply();
    };
    const onUp = (e) => {
      if (!drag || e.pointerId !== drag.id) return;
      // A click (no drag) on a node tells the kernel its id (Graphviz's <title>).
      const still = Math.abs(e.clientX - drag.x0) + Math.abs(e.clientY - drag.y0) < 4;
      const title = drag.node && drag.node.querySelector("title");
      const link = drag.node && drag.node.querySelector("a");
      const tip = link ? link.getAttribute("xlink:title") || link.getAttribute("title") : "";
      if (e.type === "pointerup" && still && title)
        model.send({ click: title.textContent, tooltip: tip || "" });
      drag = null;
      pane.classList.remove("dragging");
    };
    pane.addEventListener("wheel", onWheel, { passive: false });
    pane.addEventListener("pointerdown", onDown);
    pane.addEventListener("pointermove", onMove);
    pane.addEventListener("pointerup", onUp);
    pane.addEventListener("pointercancel", onUp);

    // Until the user zooms or pans, the default follows the view's width (JupyterLab often
    // renders into a detached element first, whose width is 0).
    let lastWidth = 0;
    const observer = new ResizeObserver(() => {
      const W = paneWidth();
      if (W !== lastWidth && !st.touched && st.svg) showDefault();
      lastWidth = W;
    });
    observer.observe(root);
    model.on("change:value", load);
    model.on("change:height", showDefault);
    load();
    return () => {
      observer.disconnect();
      model.off("change:value", load);
      model.off("change:height", showDefault);
    };
  },
};
"""

_CSS = """
.spnlab-svgview { width: 100%; }
.spnlab-svgview-bar { display: flex; gap: 4px; align-items: center; margin-bottom: 4px; }
.spnlab-svgview-button { font-size: 13px; padding: 1px 8px; cursor: pointer; }
.spnlab-svgview-zoom { min-width: 3.5em; text-align: center; font-size: 13px; }
.spnlab-svgview-pane { position: relative; overflow: hidden; width: 100%; cursor: grab;
  border: 1px solid #ddd; background: white; touch-action: none; user-select: none; }
.spnlab-svgview-pane.dragging { cursor: grabbing; }
.spnlab-svgview-svg { position: absolute; max-width: none; }
"""

_SVG_START = re.compile(r"\A\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*<svg[\s>]",
                        re.S | re.I)


class SvgView(anywidget.AnyWidget):
    """An SVG text in a pan/zoom viewer (see the module docstring).

    Attributes:
        value: the SVG text ("" draws nothing), e.g. from `spnlab.graph.render_svg`.
        height: the viewer's greatest height (CSS length, px); smaller drawings take less.
        min_label_px: the smallest on-screen node label (CSS px) the default zoom may fit to.
        filename: the name of exported files, without extension.
    """

    _esm = _ESM
    _css = _CSS
    value = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Unicode("600px").tag(sync=True)
    min_label_px = traitlets.Float(10.0).tag(sync=True)
    filename = traitlets.Unicode("spn").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._click_handlers = []
        self.last_tooltip = ""
        self.on_msg(self._on_message)

    def on_click(self, callback, remove=False):
        """Call `callback(node_id)` when a node of the drawing is clicked (not dragged);
        `node_id` is the Graphviz node's id (its `<title>`), e.g. a node name. The node's
        tooltip text is then in `last_tooltip`."""
        if remove:
            self._click_handlers.remove(callback)
        else:
            self._click_handlers.append(callback)

    def _on_message(self, _, content, buffers):
        if isinstance(content, dict) and isinstance(content.get("click"), str):
            tooltip = content.get("tooltip")
            self.last_tooltip = tooltip if isinstance(tooltip, str) else ""
            for callback in list(self._click_handlers):
                callback(content["click"])

    @traitlets.validate("value")
    def _check_value(self, proposal):
        text = proposal["value"]
        if text and not _SVG_START.match(text[:4096]):
            raise ValueError(f"Expected `value` to be SVG text (an <svg> element). "
                             f"Received: value={text[:60]!r}")
        return text

    @traitlets.validate("height")
    def _check_height(self, proposal):
        text = proposal["value"]
        if not re.fullmatch(r"\d+(\.\d+)?(px)?", text.strip()):
            raise ValueError(f"Expected `height` in CSS px such as '600px'. "
                             f"Received: height={text!r}")
        return text

    @traitlets.validate("min_label_px")
    def _check_min_label_px(self, proposal):
        value = proposal["value"]
        if not value > 0:
            raise ValueError(f"Expected `min_label_px` > 0. Received: min_label_px={value!r}")
        return value
