"""A LearnSPN's drawing keeps one layout from step to step: every node is drawn where Graphviz
puts it in the final structure's layout, so nothing already drawn moves; the page keeps its
size; stand-ins of pending slices never sit on top of each other."""
import re

import numpy as np
import pytest

from spnlab.graph import to_dot
from spnlab.graph.render import layout_positions, render_pinned
from spnlab.lab.structure_run import StructureRun


def _two_groups(rows=800, seed=0):
    """Variables 0-3 copy one hidden bit, 4-7 another (noisy): a product of two mixtures."""
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=(rows, 2))
    noise = [0.05, 0.1, 0.15, 0.2]
    return np.column_stack([z[:, g] ^ (rng.random(rows) < p) for g in (0, 1) for p in noise]) \
        .astype(np.int32)


def _node_places(svg):
    """`{node id: (x, y)}` of the drawn nodes (the centre of their first shape) and the
    viewBox of an SVG from Graphviz."""
    places = {}
    for match in re.finditer(r'class="node">\s*<title>(.*?)</title>(.*?)</g>', svg, re.S):
        shape = (re.search(r'cx="([-\d.]+)" cy="([-\d.]+)"', match.group(2))
                 or re.search(r'points="([-\d.]+),([-\d.]+)', match.group(2)))
        if shape is not None:                                  # not the invisible corners
            places[match.group(1)] = (float(shape.group(1)), float(shape.group(2)))
    return places, re.search(r'viewBox="([^"]*)"', svg).group(1)


def test_nodes_keep_their_places_from_the_first_step_to_the_last():
    run = StructureRun("learnspn", _two_groups(), min_instances_slice=60)
    drawings, kinds = [], []
    while (decision := run.step()) is not None:
        kinds.append(decision.kind)
        text = run.dot()
        placed = run.positions(text)
        assert placed is not None
        drawings.append(_node_places(render_pinned(text, *placed)))
    assert {"sum", "product", "leaf"} <= set(kinds) and len(drawings) >= 6
    changed = 0
    for (before, box_before), (after, box_after) in zip(drawings, drawings[1:]):
        assert box_before == box_after                         # the page keeps its size
        common = set(before) & set(after)
        assert common, "consecutive drawings share nodes"
        for node in common:
            assert after[node] == pytest.approx(before[node], abs=0.01), node
        changed += set(before) != set(after)
    assert changed >= 3                                        # the structure did grow
    for places, _ in drawings:                                 # no node hides another
        points = list(places.values())
        assert len({(round(x), round(y)) for x, y in points}) == len(points)
    # the last drawing is Graphviz's own layout of the final structure (its SVG draws a
    # circle at (x, -y) of the JSON position, here shifted by the page's margin)
    _, final, _ = layout_positions(to_dot(run.graph(), weights=True))
    last, _ = drawings[-1]
    circles = [node for node in last if final[node].get("shape") == "circle"]
    assert len(circles) > 10
    offsets = []
    for node in circles:                     # the same places, up to one shift of the page
        fx, fy = (float(v) for v in final[node]["pos"].split(","))
        offsets.append((last[node][0] - fx, last[node][1] + fy))
    assert np.ptp(np.array(offsets), axis=0) == pytest.approx([0, 0], abs=0.01)


def test_no_pinned_layout_where_it_would_not_help():
    data = _two_groups()
    small = StructureRun("learnspn", data, min_instances_slice=60)
    small.FINAL_LAYOUT_MAX_NODES = 5                         # the final structure is larger
    small.step()
    assert small.positions(small.dot()) is None
    hclt = StructureRun("hclt", data, num_latent_states=2)   # HCLT's nodes carry no slices
    hclt.step()
    assert hclt.positions(hclt.dot()) is None
    stale = StructureRun("learnspn", data, min_instances_slice=60)
    stale.step()
    old = stale.dot()
    stale.step()
    stale.dot()
    assert stale.positions(old) is None                      # only the last drawing's text
