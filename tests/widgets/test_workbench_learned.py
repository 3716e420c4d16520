"""The workbench learns a structure: Build with a learned structure opens structure mode (the
learner stepped on screen, the session untouched), "Train parameters" hands the run to the same
session, and the learner's view follows the training with its reference line."""
import numpy as np
import pytest

from spnlab.structure import write_debd
from spnlab.widgets import Workbench
from spnlab.widgets.builder import _data_choices


def _rows(n, seed):
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=n)
    return np.column_stack([z ^ (rng.random(n) < p) for p in (0.05, 0.1, 0.2, 0.4)]
                           + [rng.random(n) < 0.5]).astype(np.int32)


@pytest.fixture
def bench_dir(tmp_path):
    for name, seed in (("toy", 0), ("coins", 10)):
        write_debd(tmp_path, name, _rows(500, seed), _rows(150, seed + 1), _rows(150, seed + 2))
    (tmp_path / "notes").mkdir()                           # not a benchmark: not offered
    return str(tmp_path)


def test_the_builder_offers_the_benchmarks_and_each_learners_settings(bench_dir):
    wb = Workbench("classroom", data_dir=bench_dir, test_every=0)
    b = wb.builder
    assert [value for _, value in b.dataset.options] == ["digits", "digits_grey", "coins", "toy"]
    shown = {}
    for structure in ("learnspn", "learnspn_clt", "hclt", "ratspn"):
        b.structure.value = structure
        shown[structure] = sorted(name for name, field in {**b.fields, **b.learner_fields}.items()
                                  if field.layout.display != "none")
    assert shown["learnspn"] == shown["learnspn_clt"] == ["min_instances_slice", "seed"]
    assert shown["hclt"] == ["num_latent_states", "seed"]
    assert "depth" in shown["ratspn"] and "min_instances_slice" not in shown["ratspn"]
    wb.close()


def test_build_steps_the_learner_then_the_same_session_trains_the_structure(bench_dir):
    wb = Workbench("classroom", data_dir=bench_dir, test_every=0, batch_size=50)
    s, b = wb.session, wb.builder
    config = s.config
    b.structure.value, b.dataset.value = "learnspn", "toy"
    b.learner_fields["min_instances_slice"].value = 60
    b.build.click()
    assert b.error.value == "" and wb.learning and wb.children[-1] is wb.structure
    assert "Structure mode" in wb.children[1].value and "ratspn model" in wb.children[1].value
    assert s.config == config and s.structure_run is None          # nothing changed yet
    view = wb.structure
    first = view.step()
    assert first is not None and first.kind in view.reason.value
    view.run.run()
    view.refresh()
    decisions = len(view.run.decisions)
    view.train_button.click()
    assert not wb.learning and s.structure_run is view.run and len(view.run.decisions) == decisions
    assert (s.config.structure, s.config.dataset, s.config.learner_options) == (
        "learnspn", "toy", {"min_instances_slice": 60})
    np.testing.assert_array_equal(s.data.valid, _rows(150, 1))       # the benchmark's own split
    assert view.handed_over and view.step_button.disabled and view.reset_button.disabled
    assert wb.children[-3:] == (wb.trainer, wb.likelihood, wb.tabs)
    assert wb.children[1].children[0] is view                         # folded, above training
    # training: the learned graph's log-likelihood before the step is the learner's own
    np.testing.assert_allclose(s.log_likelihood(s.data.valid),
                               view.run.learner.log_likelihood(s.data.valid), rtol=1e-5)
    wb.trainer.step_button.click()
    assert s.step_count == 1
    expected = float(s.log_likelihood(s.data.valid).mean())
    assert view.curve.layout["shapes"][0]["y0"] == pytest.approx(expected)
    s.set_sum_op("all", "hard_em")                                    # every op trains it
    wb.trainer.step_button.click()
    assert s.step_count == 2 and np.isfinite(s.history.steps[-1].train_ll)
    # a structure that is not learned drops the learner's view
    b.structure.value = "ratspn"
    b.build.click()
    assert wb.structure is None and s.structure_run is None and s.config.dataset == "toy"
    assert wb.children == (wb.builder, wb.trainer, wb.likelihood, wb.tabs)
    wb.close()


def test_a_learner_that_cannot_start_leaves_the_workbench_as_it_was(bench_dir):
    wb = Workbench("classroom", data_dir=bench_dir, test_every=0)
    s, b = wb.session, wb.builder
    config, children = s.config, wb.children
    b.structure.value, b.dataset.value = "hclt", "toy"
    b.learner_fields["num_latent_states"].value = 2
    b.fields["seed"].value = 4
    write_debd(bench_dir, "toy", _rows(20, 0), _rows(10, 1), _rows(10, 2)[:, :3])  # damaged
    b.build.click()
    assert "different numbers of variables" in b.error.value
    assert not wb.learning and wb.children == children and s.config == config
    wb.close()


def test_building_another_structure_during_structure_mode_leaves_it(bench_dir):
    wb = Workbench("classroom", data_dir=bench_dir, test_every=0)
    s, b = wb.session, wb.builder
    b.structure.value, b.dataset.value = "learnspn", "toy"
    b.build.click()
    assert wb.learning and s.structure_run is None
    wb.structure.step()
    b.structure.value = "ratspn"                     # changed their mind: a random structure
    b.build.click()
    assert b.error.value == "" and not wb.learning and wb.structure is None
    assert s.config.structure == "ratspn" and s.config.dataset == "toy"
    assert wb.children == (wb.builder, wb.trainer, wb.likelihood, wb.tabs)
    wb.close()


def test_a_session_that_starts_learned_shows_its_learner_following_the_training():
    wb = Workbench("classroom", structure="hclt", test_every=0,
                   learner_options={"num_latent_states": 2}, compact=True)
    s = wb.session
    view = wb.structure
    assert view.run is s.structure_run and view.handed_over and not wb.learning
    assert view.status.value.startswith(f"<b>{len(s.structure_run.decisions)} decisions")
    for _ in range(10):
        s.step()
    assert view.curve.layout["shapes"][0]["y0"] == pytest.approx(
        float(s.log_likelihood(s.data.valid).mean()))
    assert _data_choices(s.config) == [("binarised digits", "digits"),
                                       ("grey digits (0..16)", "digits_grey")]
    wb.close()
