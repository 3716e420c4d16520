"""The DEBD loader on small files the tests write: layouts, errors that name the file, data
checks that name the argument, and bits per variable."""
import math

import numpy as np
import pytest

from spnlab.structure import bits_per_variable, check_discrete_data, debd_names, load_debd


def _write(folder, name, splits):
    folder.mkdir(parents=True, exist_ok=True)
    for split, text in splits.items():
        (folder / f"{name}.{split}.data").write_text(text)


GOOD = {"train": "0,1,1\n1,0,1\n0,0,0\n", "valid": "1,1,1\n", "test": "0,1,0\n1,1,0\n"}


def test_loads_a_dataset_directory_and_lists_names(tmp_path):
    _write(tmp_path / "toy", "toy", GOOD)
    _write(tmp_path / "other", "other", GOOD)
    (tmp_path / "not_a_dataset").mkdir()
    assert debd_names(tmp_path) == ["other", "toy"]
    data = load_debd("toy", tmp_path)
    np.testing.assert_array_equal(data.train, [[0, 1, 1], [1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(data.test, [[0, 1, 0], [1, 1, 0]])
    assert data.valid.shape == (1, 3) and data.num_vars == 3 and data.name == "toy"
    # the three files directly in the given directory work too
    np.testing.assert_array_equal(load_debd("toy", tmp_path / "toy").valid, [[1, 1, 1]])


def test_missing_and_bad_files_are_named(tmp_path):
    _write(tmp_path / "toy", "toy", {"train": GOOD["train"], "test": GOOD["test"]})
    with pytest.raises(FileNotFoundError, match=r"toy\.valid\.data"):
        load_debd("toy", tmp_path)
    _write(tmp_path / "bad", "bad", dict(GOOD, valid="1,x,1\n"))
    with pytest.raises(ValueError, match=r"bad\.valid\.data"):
        load_debd("bad", tmp_path)
    _write(tmp_path / "ragged", "ragged", dict(GOOD, train="0,1\n1,0,1\n"))
    with pytest.raises(ValueError, match=r"ragged\.train\.data"):
        load_debd("ragged", tmp_path)
    _write(tmp_path / "wide", "wide", dict(GOOD, test="0,1,0,1\n"))
    with pytest.raises(ValueError, match="different numbers of variables"):
        load_debd("wide", tmp_path)
    with pytest.raises(FileNotFoundError, match="directory"):
        debd_names(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="directory"):
        load_debd("toy", 123)


@pytest.mark.parametrize("data, message", [
    (np.array([[0.5, 1.0]]), r"whole numbers.*data\[0, 0\]=0.5"),
    (np.array([[1.0, np.nan]]), r"data\[0, 1\]"),
    (np.array([[0, -1]]), r"data\[0, 1\]=-1"),
    (np.zeros((0, 3)), "non-empty"),
    (np.zeros(3), "2-D"),
])
def test_check_discrete_data_names_the_bad_entry(data, message):
    with pytest.raises(ValueError, match=message):
        check_discrete_data(data)


def test_check_discrete_data_types_and_columns():
    with pytest.raises(TypeError, match="dtype bool"):
        check_discrete_data(np.array([[True]]))
    with pytest.raises(TypeError, match="dtype"):
        check_discrete_data(np.array([["a"]]))
    with pytest.raises(ValueError, match="4 columns"):
        check_discrete_data(np.zeros((2, 3), int), num_vars=4)
    with pytest.raises(ValueError, match="0..1"):
        check_discrete_data(np.array([[0, 2]]), num_vals=2)
    out = check_discrete_data(np.array([[1.0, 0.0]]))
    assert out.dtype == np.int64 and out.tolist() == [[1, 0]]


def test_bits_per_variable():
    assert bits_per_variable(-16 * math.log(2), 16) == pytest.approx(1.0)
    assert bits_per_variable(-6.0, 16) == pytest.approx(6.0 / (16 * math.log(2)))


def test_write_debd_round_trips(tmp_path):
    from spnlab.structure.data import write_debd
    rng = np.random.default_rng(0)
    parts = [rng.integers(2, size=(n, 4)) for n in (7, 3, 5)]
    folder = write_debd(tmp_path, "mine", *parts)
    assert (tmp_path / "mine" / "mine.valid.data").read_text().splitlines()[0].count(",") == 3
    data = load_debd("mine", tmp_path)
    for part, loaded in zip(parts, (data.train, data.valid, data.test)):
        np.testing.assert_array_equal(loaded, part)
    with pytest.raises(ValueError, match="whole numbers"):
        write_debd(folder, "bad", np.array([[0.5]]), parts[1], parts[2])
