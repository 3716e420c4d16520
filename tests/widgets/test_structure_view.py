"""StructureView without a browser: Step, Reset and Train parameters drive the run and every
view shows the run's state."""
import numpy as np

from spnlab.lab.structure_run import StructureRun
from spnlab.widgets.structure_view import StructureView


def _data(rows=600, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    return np.column_stack([z ^ (rng.random(rows) < p) for p in (0.1, 0.2, 0.3, 0.5)]) \
        .astype(np.int32)


def test_step_reset_and_train_parameters():
    view = StructureView("learnspn", data=_data(), min_instances_slice=60)
    assert view.train_button.disabled and "Step to take" in view.reason.value
    first = view.step()
    assert first.kind in view.reason.value and first.reason in view.reason.value
    assert view.curve.data[0]["x"] == [0, 1]
    assert view.slice.layout["title"]["text"].startswith(f"slice {first.slice_id}:")
    assert view.wait_drawn() and "<svg" in view.graph.value
    while view.step() is not None:
        pass
    assert view.run.done and view.step_button.disabled and not view.train_button.disabled
    assert view.curve.data[0]["x"][-1] == len(view.run.decisions)
    learned = view.run.to_dict()["graph"]
    workbench = view.train_parameters(batch_size=64, seed=0)
    assert workbench.session.model is not None and view.trained.children[1] is workbench
    record = workbench.session.step()
    assert np.isfinite(record.train_ll)
    # the dashed reference line: the trained model's validation log-likelihood
    expected = float(workbench.session.log_likelihood(view.run.valid).mean())
    assert view.curve.layout["shapes"][0]["y0"] == expected
    workbench.session.graph(None)              # a drawing writes the weights back...
    assert view.run.to_dict()["graph"] == learned     # ...into the session's own graph only
    view.reset()
    assert not view.run.decisions and view.curve.data[0]["x"] == [0]
    assert view.trained.children == () or list(view.trained.children) == []


def test_hclt_steps_show_the_growing_tree():
    run = StructureRun("hclt", _data(), num_latent_states=2)
    view = StructureView(run)
    view.step()
    view.step()
    lines = [t for t in view.evidence.data if t["mode"] == "lines"]
    assert len(lines) == 1 and lines[0]["line"]["color"] == "#d62728"


def test_a_large_graph_is_drawn_as_the_slice_overview():
    view = StructureView("learnspn", data=_data(), min_instances_slice=30)
    view.MAX_GRAPH_NODES = 10
    view.step()
    view.step()
    assert view.wait_drawn()
    assert "overview" in view.graph_note.value and "rows x" in view.graph.value
    assert "#1565c0" in view.graph.value.lower()
