"""Hand-built teaching examples as sessions: the data are the teacher's samples, the student
has the teacher's structure and learns towards the data's distribution."""
import itertools

import numpy as np
import pytest

from spnlab.graph import log_value, topological_order
from spnlab.lab import Session
from spnlab.lab.config import SessionConfig
from tests.lab.test_checkpoint import assert_resumes_exactly

STATES = np.array(list(itertools.product([0, 1], repeat=2)), np.int32)


def test_the_data_are_samples_of_the_teacher():
    s = Session("example", seed=3, test_fraction=0.0, num_examples=4000)
    teacher_p = np.exp(log_value(s.teacher, STATES))                      # [0.18, .51, .09, .22]
    np.testing.assert_allclose(teacher_p, [0.18, 0.51, 0.09, 0.22], rtol=1e-6)
    counts = np.array([np.all(s.data.train == state, axis=1).sum() for state in STATES])
    sigma = np.sqrt(4000 * teacher_p * (1 - teacher_p))
    assert np.all(np.abs(counts - 4000 * teacher_p) < 4 * sigma), counts


def test_the_student_copies_the_structure_with_fresh_weights_and_learns():
    s = Session("example", seed=0, test_fraction=0.0, em_learning_rate=0.2)
    teacher = [type(n).__name__ for n in topological_order(s.teacher)]
    student = [type(n).__name__ for n in topological_order(s.model.plan.root)]
    assert teacher == student
    root_w = s.model.weight_values(s.model.plan.root.weights)[0]
    assert not np.allclose(root_w, [0.7, 0.3], atol=0.02)                # fresh weights
    empirical = np.array([np.mean(np.all(s.data.train == state, axis=1)) for state in STATES])

    def kl():
        model_p = np.exp(s.log_likelihood(STATES).astype(np.float64))
        assert model_p.sum() == pytest.approx(1.0, abs=1e-5)              # a distribution
        return float(np.sum(empirical * np.log(empirical / model_p)))

    before = kl()
    s.run(60, progress=False)
    after = kl()
    assert after < before / 5 and after < 0.01, (before, after)


@pytest.mark.parametrize("example,num_vars", [("naive_bayes", 5), ("random", 5)])
def test_sized_examples_and_rebuilds_across_data_sets(example, num_vars):
    s = Session("example", example=example, example_vars=num_vars, num_sums=3, seed=1,
                num_examples=200)
    assert s.data.num_vars == num_vars and s.data.name == "example"
    record = s.step()
    assert np.isfinite(record.train_ll)
    s.rebuild(structure="ratspn", dataset="digits")
    assert s.teacher is None and s.data.num_vars == 64 and s.step_count == 0
    s.rebuild(structure="example", dataset="example")
    assert s.data.num_vars == num_vars


def test_example_settings_are_checked():
    with pytest.raises(ValueError, match="structure='example' together with dataset='example'"):
        SessionConfig(structure="example")
    with pytest.raises(ValueError, match="`example` in"):
        SessionConfig(structure="example", dataset="example", example="xor")
    with pytest.raises(ValueError, match="num_examples"):
        SessionConfig(structure="example", dataset="example", num_examples=1)


def test_an_example_session_resumes_bit_for_bit(tmp_path):
    s = Session("example", example="random", seed=2, sum_op="hard_em", batch_size=20)
    s.run(3, progress=False)
    assert_resumes_exactly(s, tmp_path / "ckpt")
