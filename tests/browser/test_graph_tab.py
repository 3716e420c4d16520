"""The Graph tab in a real JupyterLab: each built-in structure's default drawing has node labels
of at least 10 px on screen, the same view shown in two cells draws in both, and after a
browser reload (kernel still running) it draws again from the kernel's state."""
import json
import os
from pathlib import Path

import pytest

from tests.browser.jupyter import CHROMIUM, CHROMIUM_FLAGS, JupyterLab, missing_browser

REASON = missing_browser()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("SPNLAB_ARTIFACTS", ROOT / "tests" / "browser" / "artifacts"))
PRESETS = ("classroom", "digits", "poon_domingos", "dgcspn", "example")
CELLS = ["from spnlab.lab import Session\nfrom spnlab.widgets import GraphView\n"
         "views = {}"] + [f"views[{name!r}] = GraphView(Session({name!r}, test_every=0))\n"
                          f"views[{name!r}]" for name in PRESETS] + ["views['classroom']"]


def _notebook(path):
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": source} for source in CELLS]
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))


_MEASURE = """() => [...document.querySelectorAll('.jp-Notebook .spnlab-svgview')].map((root) => {
    let least = Infinity;
    for (const t of root.querySelectorAll('g.node text'))
        least = Math.min(least, parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
    return {scale: parseFloat(root.dataset.scale), px: least,
            nodes: root.querySelectorAll('g.node').length,
            width: root.querySelector('.spnlab-svgview-pane').clientWidth};
})"""


def _wait_for_views(page, count):
    page.wait_for_function(f"() => document.querySelectorAll('.jp-Notebook .spnlab-svgview "
                           f"g.node').length > 0 && [...document.querySelectorAll("
                           f"'.jp-Notebook .spnlab-svgview')].filter((r) => r.dataset.scale)"
                           f".length >= {count}", timeout=120_000)


def test_default_graph_labels_are_readable_in_two_displays_and_after_a_reload(tmp_path):
    from playwright.sync_api import sync_playwright
    _notebook(tmp_path / "graph.ipynb")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lab = JupyterLab(tmp_path, ARTIFACTS / "jupyterlab_graph.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                        headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{lab.url}/lab/tree/graph.ipynb?reset&token={lab.token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.wait_for_function("() => /\\|\\s*Idle/.test(document.querySelector("
                                   "'.jp-StatusBar-Widget, #jp-main-statusbar').innerText)",
                                   timeout=90_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            _wait_for_views(page, len(PRESETS) + 1)
            page.wait_for_timeout(500)
            shown = page.evaluate(_MEASURE)
            page.screenshot(path=str(ARTIFACTS / "graph_tab.png"), full_page=True)
            assert len(shown) == len(PRESETS) + 1
            for name, view in zip(PRESETS + ("classroom again",), shown):
                assert view["nodes"] > 0 and view["px"] >= 10, (name, view)
            assert shown[-1] == shown[0]                      # the second display of one view
            # save (the outputs name the widgets), then reload: the views come from the kernel
            page.locator(".jp-Notebook").first.click()
            page.keyboard.press("Control+s")
            notebook = tmp_path / "graph.ipynb"
            page.wait_for_function("() => true")
            for _ in range(100):
                if "spnlab" in notebook.read_text() or "widget-view" in notebook.read_text():
                    break
                page.wait_for_timeout(100)
            page.reload()
            _wait_for_views(page, len(PRESETS) + 1)
            page.wait_for_timeout(500)
            again = page.evaluate(_MEASURE)
            assert [v["nodes"] for v in again] == [v["nodes"] for v in shown]
            assert all(v["px"] >= 10 for v in again) and errors == []
            browser.close()
    finally:
        lab.close()
