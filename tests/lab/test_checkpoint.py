"""Checkpoints resume bit-for-bit: weights, optimiser state, generators, data order, history."""
import json

import numpy as np
import pytest

from spnlab.lab import Session
from tests.lab.helpers import all_variable_values, assert_same_values, tiny_session


def continue_and_collect(session, steps):
    records = session.run(steps, progress=False)
    taps = [{k: t.counts for k, t in r.taps.layers.items() if t.counts is not None}
            for r in records]
    return ([(r.step, r.epoch, r.train_ll, r.test_ll, r.sum_ops) for r in records], taps,
            all_variable_values(session))


def assert_resumes_exactly(session, path, steps=4):
    session.checkpoint(path)
    expected = continue_and_collect(session, steps)
    restored = Session.restore(path)
    got = continue_and_collect(restored, steps)
    assert got[0] == expected[0]
    for a, b in zip(got[1], expected[1]):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    assert_same_values(got[2], expected[2])
    def lls(history):
        return [(r.step, r.train_ll, r.test_ll) for r in history.steps]

    assert lls(restored.history) == lls(session.history)      # the past came back too
    return restored


def test_hard_em_with_accumulated_batches_resumes_bit_for_bit(tmp_path):
    # a custom model (saved as .keras too), batches smaller than the data (epochs, order),
    # online EM accumulating 2 batches (its accumulators are optimiser state), hard-EM
    # generators (tie-breaking state)
    s = tiny_session("hard_em", rows=50, batch_size=16, accumulate_batches=2, test_every=2,
                     em_learning_rate=0.3)
    s.run(3, progress=False)                  # checkpoint between the two accumulated batches
    restored = assert_resumes_exactly(s, tmp_path / "ckpt")
    assert restored.config == s.config and restored.config.structure == "custom"
    assert [r.step for r in restored.history.steps] == list(range(1, 8))
    meta = json.loads((tmp_path / "ckpt" / "session.json").read_text())
    assert meta["optimizer_groups"] == {"em": 6}    # iteration, lr, 4 gradient accumulators


def test_adam_after_a_switch_resumes_bit_for_bit_on_the_digits_model(tmp_path):
    s = Session("classroom", sum_op="em", test_every=2, batch_size=50)
    s.run(2, progress=False)
    s.set_sum_op("all", "grad")                # Adam (moments) from here
    s.run(2, progress=False)
    s.checkpoint(tmp_path / "ckpt")
    s.checkpoint(tmp_path / "ckpt")            # overwriting a checkpoint is fine
    restored = assert_resumes_exactly(s, tmp_path / "ckpt", steps=3)
    assert restored.history.switches == s.history.switches
    assert restored.data.name == "digits" and restored.data.image_shape == (8, 8)
    assert restored.sum_ops == s.sum_ops
    # the restored session can be reset like the original
    restored.reset()
    assert restored.step_count == 0 and restored.sum_ops == s.sum_ops


def test_restore_rejects_what_is_not_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="checkpoint folder"):
        Session.restore(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file.txt").write_text("keep me")
    s = tiny_session("em")
    with pytest.raises(ValueError, match="holds something else"):
        s.checkpoint(tmp_path / "x")
    assert (tmp_path / "x" / "file.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
