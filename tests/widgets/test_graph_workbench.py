"""The workbench over a hand-built node graph: every view works, the graph view colours each
sum node with its own tap value, completions keep the evidence."""
import numpy as np

from spnlab.graph import poon_domingos_example, topological_order
from spnlab.graph.sums import BaseSum
from spnlab.lab import Session
from spnlab.lab.graph_model import CountsLayout
from spnlab.widgets import Workbench


def _data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 2, size=(80, 2)).astype(np.int32)


def test_workbench_steps_and_draws_a_hand_built_graph():
    example = poon_domingos_example()
    session = Session("classroom", model=example.root, data=_data(), batch_size=16,
                      test_every=1)
    wb = Workbench(session)
    wb.trainer.step_button.click()
    assert session.step_count == 1 and wb.trainer.error.value == ""
    assert "<svg" in wb.graph.svg.value and wb.graph.error.value == ""
    before = wb.graph.svg.value
    wb.trainer.step_button.click()                          # new weights, the same layout
    assert wb.graph.renderer.layouts == 1 and wb.graph.svg.value != before
    wb.graph.signal.value = "forward"
    dot = wb.graph.dot()
    layout = CountsLayout(session.model)
    forward = session.node_signal("S1", "forward")                        # [R] per output
    for node in topological_order(example.root):
        if isinstance(node, BaseSum):
            value = float(np.mean(forward[layout.outputs_of[node]]))
            assert f'"{node.name}"' in dot
            snapshot = session.graph("forward")
            assert snapshot.node_values[node.name] == value
    for view in (wb.signals, wb.marginals, wb.completions, wb.likelihood):
        view.set_active(True)
        assert view.error.value == "", (type(view).__name__, view.error.value)
    x = np.array([[1, 0]], np.int32)
    mask = np.array([[True, False]])
    np.testing.assert_array_equal(session.complete(x, mask, "mpe")[:, 0], [1])
    wb.close()


def test_builder_builds_a_hand_built_example_and_back():
    wb = Workbench("classroom", seed=0)
    wb.builder.structure.value = "example"
    assert wb.builder.example.layout.display is None
    assert wb.builder.fields["depth"].layout.display == "none"
    wb.builder.example.value = "naive_bayes"
    wb.builder.fields["example_vars"].value = 4
    wb.builder.build.click()
    s = wb.session
    assert wb.builder.error.value == ""
    assert (s.config.structure, s.config.example, s.data.num_vars) == ("example", "naive_bayes", 4)
    assert "naive_bayes example" in wb.builder.summary.value
    assert list(wb.trainer.layer_ops) == ["S1"]
    wb.trainer.step_button.click()
    assert s.step_count == 1 and "<svg" in wb.graph.svg.value
    wb.builder.structure.value = "ratspn"
    wb.builder.build.click()
    assert s.config.dataset == "digits" and s.data.num_vars == 64
    wb.close()


def test_builder_builds_a_dgcspn_and_the_views_show_images():
    wb = Workbench("classroom", seed=0)
    wb.builder.structure.value = "dgcspn"
    assert wb.builder.fields["depth"].layout.display == "none"
    wb.builder.fields["num_sums"].value = 3
    wb.builder.build.click()
    s = wb.session
    assert wb.builder.error.value == "" and (s.config.structure, s.config.num_sums) == ("dgcspn", 3)
    assert any(l["name"].startswith("local2d_sum") for l in s.layers)
    wb.trainer.step_button.click()
    assert s.step_count == 1 and "<svg" in wb.graph.svg.value
    for view in (wb.marginals, wb.completions):
        view.set_active(True)
        assert view.error.value == "", view.error.value
    wb.close()


def test_compare_view_runs_in_the_event_loop_and_can_be_stopped():
    import asyncio

    from spnlab.widgets import CompareView

    session = Session("classroom", seed=0, test_every=0)
    view = CompareView(session, modes=("em", "hard_em"))
    view.steps.value = 30

    async def click_and_stop():
        view.run.click()
        assert view.running and view.run.description == "Stop"
        while len(view.table) < 5:
            await asyncio.sleep(0.05)
        view.run.click()                                   # Stop
        await view._task

    asyncio.run(click_and_stop())
    assert 5 <= len(view.table) < 60 and view.run.description == "Compare"
    assert view.error.value == "" and session.step_count == 0
    view.close()


def test_clicking_a_value_bar_sets_evidence_and_the_marginals_follow_by_brute_force():
    """On a hand-built example (bars, not an image), a click on X1's bar part "= 1" observes
    X1 = 1; the other bars become p(X_v | X1 = 1) by enumeration; a second click takes it
    back. After a rebuild to other data the view follows."""
    import itertools

    from spnlab.widgets import MarginalsView

    s = Session("example", example="naive_bayes", example_vars=3, num_sums=2, seed=0)
    s.run(5, progress=False)
    view = MarginalsView(s)
    assert not view.evidence.any()
    view.figure.click([{"curve": 1, "index": 1, "x": "X1", "y": 0.5}])    # as the browser sends
    assert view.evidence.tolist() == [False, True, False] and view.values[1] == 1
    states = np.array(list(itertools.product([0, 1], repeat=3)), np.int32)
    p = np.exp(s.log_likelihood(states).astype(np.float64))
    given = states[:, 1] == 1
    expected = (p[given, None] * states[given]).sum(0) / p[given].sum()
    shown = np.array(view.figure.data[1]["y"])                          # p(X_v = 1 | X1 = 1)
    np.testing.assert_allclose(shown, expected, atol=1e-5)
    assert view.figure.data[0]["x"][1] == "X1 (given)"
    view.figure.click([{"curve": 1, "index": 1, "x": "X1 (given)", "y": 1.0}])
    assert not view.evidence.any()
    s.rebuild(example_vars=5)
    assert view.error.value == "" and len(view.figure.data[0]["x"]) == 5
    view.close()


def test_builder_switches_leaves_and_data_and_the_marginals_show_posterior_means():
    wb = Workbench("classroom", seed=0, test_every=0)
    wb.builder.dataset.value = "digits_grey"
    wb.builder.leaf.value = "normal"
    wb.builder.build.click()
    s = wb.session
    assert wb.builder.error.value == "" and (s.config.dataset, s.config.leaf) == (
        "digits_grey", "normal")
    assert "normal leaves" in wb.builder.summary.value
    wb.trainer.step_button.click()
    wb.marginals.set_active(True)
    assert wb.marginals.error.value == ""
    layout = wb.marginals.figure.layout
    assert layout["title"]["text"] == "Posterior mean"
    row = wb.marginals.values
    expected = s.complete(row, wb.marginals.evidence, "mean").reshape(8, 8)
    np.testing.assert_allclose(np.array(wb.marginals.figure.data[0]["z"])[::-1], expected,
                               rtol=1e-5)
    wb.builder.dataset.value = "digits"                     # normal leaves need grey data
    wb.builder.build.click()
    assert "digits_grey" in wb.builder.error.value and s.config.dataset == "digits_grey"
    wb.close()


def test_mask_choosers_offer_half_image_masks_only_for_images_also_after_a_rebuild():
    from spnlab.lab.masks import masks_for

    assert "bottom" in masks_for((8, 8)) and "bottom" not in masks_for(None)
    wb = Workbench("classroom", seed=0, test_every=0)
    wb.marginals.set_active(True)
    wb.completions.set_active(True)
    assert wb.marginals.mask_kind.value == "bottom" and "top" in wb.marginals.mask_kind.options
    wb.session.rebuild(structure="example", dataset="example", example="naive_bayes",
                       example_vars=4)
    for view, fallback in ((wb.marginals, "all"), (wb.completions, "random")):
        assert tuple(view.mask_kind.options) == masks_for(None) and view.error.value == ""
        assert view.mask_kind.value == fallback
    # the marginals now start from the prior: nothing observed
    assert not wb.marginals.evidence.any() and len(wb.marginals.evidence) == 4
    wb.close()
