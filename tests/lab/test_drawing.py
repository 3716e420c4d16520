"""The Graph view's drawing without a UI (`spnlab.lab.drawing`): what is drawn for each
choice, checked on the DOT text against the session's graph."""
import pytest

from spnlab.graph import topological_order
from spnlab.graph.dot_highlight import TREE_COLOUR
from spnlab.graph.sums import BaseSum
from spnlab.lab import Session
from spnlab.lab.drawing import WHOLE, draw_graph
from tests.graph.dot_parser import parse_dot


@pytest.fixture(scope="module")
def classroom():
    session = Session("classroom", seed=0, test_every=0)
    session.run(1, progress=False)
    return session


def test_a_large_model_draws_regions_and_an_opened_region_its_nodes(classroom):
    drawing = draw_graph(classroom)
    root = classroom.graph(None).graph.root
    regions = [n for n in topological_order(root) if isinstance(n, BaseSum)]
    assert "regions" in drawing.info and drawing.focus_options[0] == (WHOLE, WHOLE)
    assert {name for _, name in drawing.focus_options[1:]} == {n.name for n in regions
                                                               if n is not root}
    region = next(n for n in regions if n.name == drawing.focus_options[-1][1])
    opened = draw_graph(classroom, focus=region.name, draw="nodes")
    drawn = parse_dot(opened.dot).nodes
    assert region.name in drawn
    assert {n.name for n in opened.nodes.values()} == {n.name for n in topological_order(region)}


def test_the_tree_is_highlighted_and_reported(classroom):
    drawing = draw_graph(classroom, tree="max_product", tree_row=2, tree_mask="bottom")
    assert drawing.tree is not None and "MPE log p" in drawing.tree_info
    assert TREE_COLOUR in drawing.dot and "test row 2, bottom hidden" in drawing.legend
    plain = draw_graph(classroom)
    assert plain.tree is None and plain.tree_info == "" and TREE_COLOUR not in plain.dot


@pytest.mark.parametrize("kwargs, text", [
    ({"signal": "weights"}, "signal='weights'"), ({"draw": "all"}, "draw='all'"),
    ({"tree": "soft"}, "tree='soft'")])
def test_bad_choices_are_named(classroom, kwargs, text):
    with pytest.raises(ValueError, match=text):
        draw_graph(classroom, **kwargs)
