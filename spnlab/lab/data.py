"""Data sets for the lab: the bundled digits (binarised) or user arrays, split and batched.

`BatchStream` hands out minibatches in a seeded order, epoch after epoch; its whole state is a
small JSON-able dict, so a checkpoint resumes the exact data order. `next_batch` computes the
next batch without moving, and `commit` moves: a failed training step does not consume data.
"""
import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class DataSet:
    """Train and test rows `[N, num_vars]`.

    Attributes:
        name: "digits", "digits_grey", "example", "custom" or a benchmark's name.
        train, test: arrays (int32 for discrete data, float32 otherwise); `test` may be empty.
        image_shape: `(rows, cols)` when the variables are pixels (digits: (8, 8)), else None.
        valid: validation rows when the data set has them (a benchmark; a learned structure's
            held-out rows), else None.
        variables: the variables' names (a DataFrame's columns), else None.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    image_shape: Optional[tuple] = None
    valid: Optional[np.ndarray] = None
    variables: Optional[list] = None

    @property
    def num_vars(self):
        return int(self.train.shape[1])

    @property
    def discrete(self):
        return np.issubdtype(self.train.dtype, np.integer)


@functools.lru_cache(maxsize=None)
def _digits_pixels():
    try:
        from sklearn.datasets import load_digits  # bundled with scikit-learn, no download
    except ImportError as error:
        raise ImportError("The digits data set comes with scikit-learn: "
                          "pip install scikit-learn") from error
    pixels = load_digits().data                                   # [1797, 64] in 0..16
    pixels.setflags(write=False)
    return pixels


def digits(binarize_threshold=8, test_fraction=0.2, seed=0):
    """scikit-learn's 8x8 digits, pixels >= `binarize_threshold` (of 16) as 1, split by `seed`."""
    x = (_digits_pixels() >= binarize_threshold).astype(np.int32)
    train, test = split(x, test_fraction, seed)
    return DataSet("digits", train, test, image_shape=(8, 8))


def digits_grey(test_fraction=0.2, seed=0):
    """scikit-learn's 8x8 digits with their 17 grey levels (0..16, int32), split by `seed`."""
    x = _digits_pixels().astype(np.int32)
    train, test = split(x, test_fraction, seed)
    return DataSet("digits_grey", train, test, image_shape=(8, 8))


def check_array(x, arg_name):
    """Validate a user data array: 2-D, numeric, finite; integer-valued data becomes int32."""
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == object or np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.number)
                                                       or x.dtype == bool):
        raise TypeError(f"Expected `{arg_name}` to hold numbers. Received dtype {x.dtype}")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"Expected `{arg_name}` of shape [num_rows, num_vars]. "
                         f"Received: {arg_name}.shape={x.shape}")
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            raise ValueError(f"Expected finite `{arg_name}` values. Received NaN or inf at index "
                             f"{tuple(int(i) for i in np.argwhere(bad)[0])}")
        if np.all(x == np.round(x)):
            return x.astype(np.int32)
        return x.astype(np.float32)
    return x.astype(np.int32)


def from_arrays(data, test_fraction=0.2, seed=0):
    """A `DataSet` from an array or DataFrame (split by `seed`), a `(train, test)` pair or a
    `(train, valid, test)` triple; a DataFrame's column names become the variables' names."""
    first = data[0] if isinstance(data, (tuple, list)) and len(data) else data
    columns = getattr(first, "columns", None)
    dataset = _from_arrays(data, test_fraction, seed)
    if columns is not None:
        dataset.variables = [str(c) for c in columns]
    return dataset


def benchmark(name, directory):
    """The benchmark `name` in `directory` (`<directory>/<name>/<name>.{train,valid,test}.data`,
    e.g. the density-estimation benchmarks) with its own train, validation and test rows."""
    from spnlab.structure import load_debd
    data = load_debd(name, directory)
    return DataSet(name, data.train.astype(np.int32), data.test.astype(np.int32),
                   valid=data.valid.astype(np.int32))


def _from_arrays(data, test_fraction, seed):
    if isinstance(data, (tuple, list)) and len(data) == 3 and not np.isscalar(data[0]):
        pair = _from_arrays((data[0], data[2]), test_fraction, seed)
        train, test = pair.train, pair.test
        valid = check_array(data[1], "data[1]")
        if valid.shape[1] != train.shape[1]:
            raise ValueError("Expected validation data with the training data's number of "
                             f"variables. Received: {valid.shape[1]} and {train.shape[1]}")
        return DataSet("custom", train, test, valid=valid.astype(train.dtype))
    if isinstance(data, (tuple, list)) and len(data) == 2 and not np.isscalar(data[0]):
        train, test = check_array(data[0], "data[0]"), check_array(data[1], "data[1]")
        if train.shape[1] != test.shape[1]:
            raise ValueError("Expected train and test data with the same number of variables. "
                             f"Received: {train.shape[1]} and {test.shape[1]}")
        if train.dtype != test.dtype:
            train, test = train.astype(np.float32), test.astype(np.float32)
        return DataSet("custom", train, test)
    x = check_array(data, "data")
    train, test = split(x, test_fraction, seed)
    return DataSet("custom", train, test)


def split(x, test_fraction, seed):
    """Shuffle rows with `seed` and cut off `test_fraction` of them as the test set."""
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 7])).permutation(len(x))
    num_test = int(round(len(x) * test_fraction))
    if num_test >= len(x):
        raise ValueError(f"Expected `test_fraction` to leave training rows. Received: "
                         f"test_fraction={test_fraction} for {len(x)} rows")
    return x[order[num_test:]], x[order[:num_test]]


class BatchStream:
    """Seeded minibatch order over `num_rows` rows: a fresh permutation every epoch.

    The last batch of an epoch may be smaller. State: `epoch`, `position`, the current
    epoch's `order`, and the NumPy generator's state for the next permutations.
    """

    def __init__(self, num_rows, seed):
        if isinstance(num_rows, bool) or not isinstance(num_rows, int) or num_rows < 1:
            raise ValueError("Expected `num_rows` to be a positive int. "
                             f"Received: num_rows={num_rows!r}")
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 11]))
        self._state = {"num_rows": num_rows, "epoch": 0, "position": num_rows, "order": [],
                       "rng": rng.bit_generator.state}

    @property
    def epoch(self):
        return self._state["epoch"]

    @property
    def position(self):
        return self._state["position"]

    def next_batch(self, batch_size):
        """`(row_indices, next_state)`; the stream does not move until `commit(next_state)`."""
        state = dict(self._state)
        if state["position"] >= state["num_rows"]:
            rng = np.random.default_rng()
            rng.bit_generator.state = state["rng"]
            state["order"] = rng.permutation(state["num_rows"]).tolist()
            state["rng"] = rng.bit_generator.state
            state["epoch"] += 1
            state["position"] = 0
        start = state["position"]
        rows = np.asarray(state["order"][start:start + batch_size], dtype=np.int64)
        state["position"] = start + len(rows)
        return rows, state

    def commit(self, state):
        self._state = state

    def state(self):
        """A JSON-able copy of the state."""
        return {**self._state, "order": list(self._state["order"])}

    def set_state(self, state):
        keys = {"num_rows", "epoch", "position", "order", "rng"}
        if not isinstance(state, dict) or set(state) != keys:
            raise ValueError(f"Expected a BatchStream state with keys {sorted(keys)}. "
                             f"Received: {state!r:.200}")
        self._state = {**state, "order": list(state["order"])}
