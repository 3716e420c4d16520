"""Sessions on learned structures ("learnspn", "learnspn_clt", "hclt"): the session trains the
structure its `StructureRun` learned (checked against the learner's own NumPy likelihood), a
reset keeps it, a stepped run is handed over, benchmarks are read from `data_dir`, and a
checkpoint resumes it exactly."""
import numpy as np
import pytest

from spnlab.graph import graph_to_config
from spnlab.lab import Session
from spnlab.structure import write_debd
from spnlab.graph import get_scope
from tests.lab.helpers import all_variable_values, assert_resumes_exactly, assert_same_values


def _rows(n, seed):
    """Five binary variables: 0-2 copy a hidden bit with noise, 3-4 are independent coins."""
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=n)
    noisy = [z ^ (rng.random(n) < p) for p in (0.05, 0.1, 0.2)]
    coins = [rng.random(n) < p for p in (0.3, 0.6)]
    return np.column_stack(noisy + coins).astype(np.int32)


@pytest.fixture
def bench_dir(tmp_path):
    write_debd(tmp_path, "toy", _rows(600, 0), _rows(200, 1), _rows(200, 2))
    return str(tmp_path)


def _session(structure="learnspn", **overrides):
    settings = {"test_every": 0, "batch_size": 50, "seed": 3,
                "learner_options": {"min_instances_slice": 80}}
    return Session("classroom", structure=structure, data=_rows(900, 5), **{**settings,
                                                                             **overrides})


@pytest.mark.parametrize("structure,options", [
    ("learnspn", {"min_instances_slice": 80}),
    ("learnspn_clt", {"min_instances_slice": 200}),
    ("hclt", {"num_latent_states": 3})])
def test_the_session_starts_from_the_structure_and_weights_the_learner_learned(structure,
                                                                               options):
    s = _session(structure, learner_options=options)
    run = s.structure_run
    assert run.done and run.learner_name == structure
    # train on the rows the structure was learned from; the validation rows are held out
    np.testing.assert_array_equal(s.data.train, run.train)
    np.testing.assert_array_equal(s.data.valid, run.valid)
    assert len(run.train) + len(run.valid) + len(s.data.test) == 900
    # the compiled graph gives the learner's own (NumPy) log-likelihoods
    expected = run.learner.log_likelihood(s.data.valid)
    np.testing.assert_allclose(s.log_likelihood(s.data.valid), expected, rtol=1e-5, atol=1e-5)
    assert run.curve[-1].valid_ll == pytest.approx(float(np.mean(expected)), rel=1e-9)


def test_a_reset_gives_the_learned_weights_back_without_learning_again():
    s = _session()
    run, before = s.structure_run, s.log_likelihood(s.data.valid)
    s.run(6, progress=False)
    assert not np.allclose(s.log_likelihood(s.data.valid), before)
    s.reset()
    assert s.structure_run is run and s.step_count == 0
    np.testing.assert_allclose(s.log_likelihood(s.data.valid), before, rtol=1e-6)
    s.rebuild(batch_size=20)                     # not a setting the structure depends on
    assert s.structure_run is run
    s.rebuild(learner_options={"min_instances_slice": 300})
    assert s.structure_run is not run and len(s.structure_run.decisions) < len(run.decisions)


def test_a_run_stepped_elsewhere_is_handed_over_and_equals_learning_in_one_go():
    s = _session(structure="learnspn_clt", learner_options={"min_instances_slice": 200})
    changes = {"structure": "learnspn", "learner_options": {"min_instances_slice": 60}}
    run = s.structure_run_for(**changes)
    assert s.config.structure == "learnspn_clt" and not run.decisions   # nothing changed yet
    run.step()
    run.step()
    s.rebuild(structure_run=run, **changes)
    assert s.structure_run is run and run.done and s.config.structure == "learnspn"
    fresh = _session(**changes)
    assert graph_to_config(run.graph()) == graph_to_config(fresh.structure_run.graph())
    np.testing.assert_allclose(s.log_likelihood(s.data.test), fresh.log_likelihood(
        fresh.data.test), rtol=1e-6)


def test_a_run_of_other_settings_is_refused_and_nothing_changes():
    s = _session()
    run, config, values = s.structure_run, s.config, all_variable_values(s)
    other = s.structure_run_for(structure="hclt", learner_options={"num_latent_states": 2})
    with pytest.raises(ValueError, match="structure_run"):
        s.rebuild(structure="learnspn", learner_options={"min_instances_slice": 70},
                  structure_run=other)
    with pytest.raises(ValueError, match="learned `structure`"):
        s.structure_run_for(structure="ratspn")
    with pytest.raises(TypeError, match="unexpected keyword|min_rows"):
        s.rebuild(learner_options={"min_rows": 3})          # the learner names the argument
    assert s.structure_run is run and s.config == config
    assert_same_values(all_variable_values(s), values)


def test_every_sum_op_trains_a_learned_structure():
    s = _session()
    for op in ("em", "hard_em", "unweighted_hard_em", "grad"):
        s.set_sum_op("all", op)
        record = s.run(3, progress=False)[-1]
        assert np.isfinite(record.train_ll), op
    s.set_sum_op("all", "em")
    s.update_config(em_learning_rate=1.0, batch_size=len(s.data.train))
    # full-batch EM at learning rate 1 never lowers the training log-likelihood
    lls = [float(np.mean(s.log_likelihood(s.data.train)))]
    for _ in range(3):
        s.step()
        lls.append(float(np.mean(s.log_likelihood(s.data.train))))
    assert all(b >= a - 1e-4 for a, b in zip(lls, lls[1:])), lls


def test_a_benchmark_in_data_dir_keeps_its_splits(bench_dir):
    s = Session("classroom", structure="hclt", dataset="toy", data_dir=bench_dir, test_every=0,
                learner_options={"num_latent_states": 2})
    np.testing.assert_array_equal(s.data.train, _rows(600, 0))
    np.testing.assert_array_equal(s.data.valid, _rows(200, 1))
    np.testing.assert_array_equal(s.data.test, _rows(200, 2))
    s.rebuild(structure="ratspn")              # a random structure on the same benchmark
    np.testing.assert_array_equal(s.data.test, _rows(200, 2))
    assert s.structure_run is None and s.data.num_vars == 5
    with pytest.raises(FileNotFoundError, match="missing.*nothere.train.data"):
        s.rebuild(dataset="nothere")
    with pytest.raises(ValueError, match="dataset"):
        Session("classroom", dataset="toy")     # a benchmark name needs data_dir


class _Frame:
    """What a pandas DataFrame shows the lab: column names and an array."""

    columns = ["rain", "wet", "cloud", "coin", "die"]

    def __init__(self, rows):
        self.rows = rows

    def __array__(self, dtype=None, copy=None):
        return self.rows if dtype is None else self.rows.astype(dtype)


def test_a_dataframe_names_the_learned_variables():
    frame = _Frame(_rows(500, 7))
    s = Session("classroom", structure="learnspn", data=frame, test_every=0,
                learner_options={"min_instances_slice": 100})
    names = {v.name for v in get_scope(s.structure_run.graph())[0]}
    assert names == {"rain", "wet", "cloud", "coin", "die"}


def test_a_checkpoint_of_a_learned_structure_resumes_exactly(tmp_path, bench_dir):
    s = Session("classroom", structure="learnspn", dataset="toy", data_dir=bench_dir,
                test_every=0, batch_size=64, learner_options={"min_instances_slice": 100})
    s.run(3, progress=False)
    restored = assert_resumes_exactly(s, tmp_path / "ckpt")
    learned = graph_to_config(s.structure_run.graph())
    assert graph_to_config(restored.structure_run.graph()) == learned
    assert restored.config.dataset == "toy"
    restored.reset()                            # starts over on the same learned structure
    assert graph_to_config(restored.structure_run.graph()) == learned
    np.testing.assert_allclose(restored.log_likelihood(restored.data.valid),
                               restored.structure_run.learner.log_likelihood(
                                   restored.data.valid), rtol=1e-5)
