"""The views drive a real session and show what it holds (no browser: widget state only).

Every test gets a fresh session (function-scoped fixture) and takes the steps it needs itself,
so the tests pass alone and in any order."""
import re

import numpy as np
import pytest

from spnlab.lab import Session
from spnlab.widgets import (CompletionsView, LikelihoodView, MarginalsView, SignalsView,
                            TrainerView, Workbench)


def classroom(**overrides):
    """A fresh, untrained classroom session (the views need its image data)."""
    return Session("classroom", **{"seed": 0, "test_every": 1, **overrides})


@pytest.fixture
def session():
    return classroom()


@pytest.fixture
def lean_session():
    """Without test evaluation or signal taps, for tests that read neither: its first step
    traces in about half the time, which matters now that every test traces its own."""
    return classroom(test_every=0, taps={"enabled": False})


def test_step_button_steps_the_session_and_every_view_shows_it(session):
    trainer, curve = TrainerView(session), LikelihoodView(session)
    before = session.step_count
    trainer.step_button.click()
    trainer.step_button.click()
    assert session.step_count == before + 2
    assert f"step {session.step_count}" in trainer.status.value
    train = curve.figure.data[0]
    assert list(train["x"])[-2:] == [before + 1, before + 2]
    np.testing.assert_allclose(train["y"][-1], session.history.last.train_ll)
    assert f"{session.history.last.train_ll:.3f}" in trainer.status.value
    trainer.close(), curve.close()


def test_sum_op_dropdowns_switch_the_session_live_and_follow_it(lean_session):
    session = lean_session
    session.step()                                 # so the switch's step is not just 0
    trainer = TrainerView(session)
    trainer.all_ops.value = "hard_em"
    assert set(session.sum_ops.values()) == {"hard_em"}
    assert session.history.switches[-1].step == session.step_count
    first = next(iter(trainer.layer_ops))
    trainer.layer_ops[first].value = "em"
    assert session.sum_ops[first] == "em"
    assert trainer.all_ops.value == "mixed"                # the all-layers selector follows
    session.set_sum_op("all", "em")                        # a switch from code shows too
    assert trainer.all_ops.value == "em"
    assert all(d.value == "em" for d in trainer.layer_ops.values())
    trainer.close()


def test_errors_are_shown_in_the_view_and_change_nothing(lean_session):
    session = lean_session
    trainer = TrainerView(session)
    steps, weights = session.step_count, [w.copy() for w in session.model.get_weights()]
    trainer.batch_size.value = 0                   # BoundedIntText clamps to its minimum 1
    trainer.em_lr.max = 5.0
    trainer.em_lr.value = 3.0                      # outside (0, 1]: the session refuses
    assert "em_learning_rate" in trainer.error.value and "spnlab-error" in trainer.error.value
    assert session.config.em_learning_rate != 3.0
    assert session.step_count == steps
    for got, want in zip(session.model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    trainer.step_button.click()                    # the next good action clears the message
    assert trainer.error.value == ""
    trainer.close()


def test_hidden_views_redraw_only_when_shown(lean_session):
    session = lean_session
    view = MarginalsView(session)
    calls = []
    original = view.refresh
    view.refresh = lambda: (calls.append(1), original())
    view.set_active(False)
    session.step()
    session.step()
    assert calls == []                              # stale, not redrawn
    view.set_active(True)
    assert calls == [1]                             # one redraw on showing
    view.close()


def test_marginal_view_draws_the_session_marginals(session):
    view = MarginalsView(session)
    x = session.data.test[view.row.value]
    expected = session.marginals(x, view.evidence)[:, 1].reshape(session.data.image_shape)
    np.testing.assert_allclose(np.array(view.figure.data[0]["z"])[::-1], expected, rtol=1e-6)
    view.mask_kind.value = "all"                     # everything hidden: no evidence
    assert not view.evidence.any()
    uniform = session.marginals(x, view.evidence)[:, 1].reshape(session.data.image_shape)
    np.testing.assert_allclose(np.array(view.figure.data[0]["z"])[::-1], uniform, rtol=1e-6)
    view.close()


def test_completions_keep_observed_pixels(session):
    view = CompletionsView(session, num_rows=3, methods=("mpe", "sample"))
    titles = list(view.figure.layout["yaxis"]["ticktext"])
    assert titles == ["original", "masked", "mpe", "sample"]
    x = session.data.test[:3]
    mask = session.evidence_mask(view.mask_kind.value, num_rows=3)
    completed = session.complete(x, mask, method="mpe", seed=0)
    np.testing.assert_array_equal(completed[mask], x[mask])
    view.close()


def test_signals_view_plots_the_tap_series(session):
    session.step()                                  # series of several points, not one
    session.step()
    session.step()
    view = SignalsView(session)
    series = {t["name"]: (list(t["x"]), list(t["y"])) for t in view.series.data}
    keys = {l["title"]: l["key"] for l in session.layers}
    assert keys["S1 (leaves)"] == "S1" and keys["S4 (root)"] == "S4"
    for title, (steps, values) in series.items():
        want_steps, want_values = session.taps.series(keys[title], "entropy_norm")
        assert steps == want_steps
        np.testing.assert_allclose(np.array(values, float), np.array(want_values, float))
    assert series
    view.close()


def test_workbench_lays_out_every_view_over_one_session():
    wb = Workbench("classroom", seed=1)
    assert wb.graph.active and not wb.marginals.active
    wb.tabs.selected_index = 2
    assert wb.marginals.active and not wb.graph.active
    wb.builder.fields["num_sums"].value = 3
    wb.builder.build.click()
    assert wb.session.config.num_sums == 3 and wb.session.step_count == 0
    assert wb.builder.error.value == ""
    wb.close()


def test_every_view_has_a_notebook_representation(session):
    """What Jupyter calls to display a widget (a clash with an ipywidgets method broke it)."""
    wb = Workbench(session)
    bundle = wb._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    for view in (wb.builder, wb.trainer, wb.likelihood, wb.graph, wb.signals, wb.marginals,
                 wb.completions, wb.compare):
        assert type(view).__name__ in repr(view)
    wb.close()


def test_graph_view_colours_nodes_with_their_layer_signal(session):
    from spnlab.graph import topological_order
    from spnlab.widgets import GraphView
    from spnlab.lab.node_values import node_values
    session.step()
    view = GraphView(session)
    assert view.error.value == "" and "<svg" in view.svg.value
    snapshot = session.graph("forward")
    names = {layer["name"]: layer["key"] for layer in session.layers}
    values = node_values(snapshot.graph.root, snapshot.layer_values, names)
    forward = session.node_signal("S1", "forward")                     # [S, D, N]
    s1 = next(l["name"] for l in session.layers if l["key"] == "S1")
    checked = 0
    for node in topological_order(snapshot.graph.root):
        origin = getattr(node, "origin", None)
        if origin and origin[0] == s1:
            np.testing.assert_allclose(values[node.name], forward[origin[1], origin[2]].mean())
            checked += 1
    assert checked == forward.shape[0] * forward.shape[1]
    assert f'"{node.name}"' in view.dot()
    # open one region: the drawing is the sub-SPN below the chosen sum node
    region = next(n for n in topological_order(snapshot.graph.root)
                  if getattr(n, "origin", None) and n.origin[0] == s1)
    view.focus.value = region.name
    below = {n.name for n in topological_order(region)}
    # a split leaf is drawn as one record per variable, "<leaf>/<variable>"
    drawn = {n.split("/", 1)[0] for n in re.findall(r'^  "([^"]+)" \[', view.dot(), flags=re.M)}
    assert drawn == below and "<svg" in view.svg.value
    view.close()


def test_per_layer_controls_follow_a_rebuild_that_changes_the_layers():
    wb = Workbench("classroom", seed=2)
    keys_before = set(wb.session.sum_ops)
    wb.builder.fields["depth"].value = wb.session.config.depth + 1
    wb.builder.build.click()
    keys_after = set(wb.session.sum_ops)
    assert keys_after != keys_before
    assert set(wb.trainer.layer_ops) == keys_after
    wb.tabs.selected_index = 1                               # Signals catches up when shown
    assert {key for _, key in wb.signals.layer.options} == {l["key"] for l in wb.session.layers
                                             if l["kind"] == "sum"}
    new_key = sorted(keys_after - keys_before)[0]
    wb.trainer.layer_ops[new_key].value = "hard_em"          # the new layer's control works
    assert wb.session.sum_ops[new_key] == "hard_em" and wb.trainer.error.value == ""
    wb.close()


def test_workbench_without_test_rows_builds_and_queries_the_training_rows():
    wb = Workbench("classroom", seed=0, test_fraction=0.0)
    views = (wb.builder, wb.trainer, wb.likelihood, wb.graph, wb.signals, wb.marginals,
             wb.completions, wb.compare)
    wb.marginals.set_active(True)
    wb.completions.set_active(True)
    assert [v.error.value for v in views] == [""] * len(views)
    x = wb.session.data.train[0]
    expected = wb.session.marginals(x, wb.marginals.evidence)[:, 1]
    np.testing.assert_allclose(np.array(wb.marginals.figure.data[0]["z"])[::-1].ravel(), expected,
                               rtol=1e-6)
    wb.close()
