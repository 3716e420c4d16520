"""The pan/zoom SVG viewer's Python side: the SVG is synced state (a reload or a second display
draws it again), bad values are refused naming the argument. Its JavaScript is measured in
Chromium by tests/browser/test_svg_view.py."""
import pytest

from spnlab.graph import poon_domingos_example, to_dot
from spnlab.graph.render import render_svg
from spnlab.widgets.svg_view import SvgView


def test_the_svg_is_synced_state_that_a_new_front_end_receives():
    svg = render_svg(to_dot(poon_domingos_example().root))
    view = SvgView(value=svg, height="480px")
    state = view.get_state()
    assert state["value"] == svg and state["height"] == "480px"
    assert state["min_label_px"] == 10.0 and state["filename"] == "spn"
    other = SvgView()
    other.set_state({"value": svg})                   # what the front end would send
    assert other.value == svg
    assert "export default" in SvgView._esm and "import " not in SvgView._esm   # no CDN
    view.close()
    other.close()


@pytest.mark.parametrize("trait, bad, error", [
    ("value", "<div>not svg</div>", "value='<div>not svg</div>'"),
    ("height", "tall", "height='tall'"),
    ("min_label_px", 0.0, "min_label_px=0.0"),
])
def test_bad_values_name_the_trait(trait, bad, error):
    view = SvgView()
    with pytest.raises(ValueError) as info:
        setattr(view, trait, bad)
    assert error in str(info.value)
    view.close()


def test_a_click_message_reaches_the_handlers_with_the_node_id():
    view = SvgView()
    got = []
    view.on_click(got.append)
    view._on_message(view, {"click": "dense_sum_1[0,1]"}, [])
    view._on_message(view, {"pong": 3}, [])                          # other messages: ignored
    assert got == ["dense_sum_1[0,1]"]
    view.on_click(got.append, remove=True)
    view._on_message(view, {"click": "S"}, [])
    assert got == ["dense_sum_1[0,1]"]
    view.close()
