"""Checkpoints resume bit-for-bit: weights, optimiser state, generators, data order, history."""
import json
import re

import numpy as np
import pytest

from spnlab.lab import Session
from tests.lab.helpers import assert_resumes_exactly, tiny_session


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


@pytest.fixture
def saved(tmp_path):
    s = tiny_session("em")
    s.run(2, progress=False)
    path = tmp_path / "ckpt"
    s.checkpoint(path)
    return s, path


def _truncate(file):
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("name, damage", [
    ("state.h5", _truncate),
    ("model.weights.h5", _truncate),
    ("session.json", _truncate),
    ("session.json", lambda f: f.write_text(json.dumps({**json.loads(f.read_text()),
                                                       "history": None}))),
    ("session.json", lambda f: f.write_text("[1, 2]")),
])
def test_a_damaged_file_is_named_with_what_is_wrong(saved, name, damage):
    _, path = saved
    damage(path / name)
    with pytest.raises(ValueError, match=re.escape(str(path / name))) as info:
        Session.restore(path)
    assert "could not be read" in str(info.value) or "Expected a spnlab" in str(info.value)


def test_nan_weights_are_refused_and_a_zero_weights_log_is_not(saved):
    import h5py
    s, path = saved
    with h5py.File(path / "model.weights.h5", "r+") as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(name)
                     if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" else None)
        first = f[datasets[0]]
        values = np.array(first)
        values.flat[0] = np.nan
        first[...] = values
    with pytest.raises(ValueError, match=r"Expected finite weights in the checkpoint file .*"
                                         r"model\.weights\.h5.*Received NaN or \+inf"):
        Session.restore(path)
    with h5py.File(path / "model.weights.h5", "r+") as f:
        values.flat[0] = -np.inf                               # log of a zero weight: legal
        f[datasets[0]][...] = values
    Session.restore(path)


def test_a_path_that_is_not_a_path_is_named(saved):
    s, _ = saved
    for call in (lambda: s.checkpoint(123), lambda: Session.restore(123)):
        with pytest.raises(TypeError, match=r"Expected `path` to be a str or os.PathLike "
                                            r"\(a folder\). Received: path=123"):
            call()
