"""Discrete data for the structure learners: checks, and the standard binary density-estimation
benchmarks (DEBD) read from a directory the user has (nothing is downloaded).

A DEBD dataset `<name>` is a directory holding `<name>.train.data`, `<name>.valid.data` and
`<name>.test.data`: comma-separated 0/1 values, one row per line, no header.
"""
import math
import os
from typing import NamedTuple

import numpy as np

from spnlab.graph._checks import short_repr

SPLITS = ("train", "valid", "test")


class Dataset(NamedTuple):
    """One benchmark: `train`, `valid`, `test` int arrays `[rows, num_vars]` and its `name`."""

    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    @property
    def num_vars(self):
        return self.train.shape[1]


def _numeric_table(data, arg, num_vars, what):
    """`data` as a non-empty 2-D numeric array with `num_vars` columns (errors name `arg`)."""
    try:
        array = np.asarray(data)
    except Exception:                                   # ragged lists and the like
        raise TypeError(f"Expected `{arg}` to be a 2-D array of {what}. "
                        f"Received: {arg}={short_repr(data)}") from None
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"Expected `{arg}` to hold {what}. Received: {arg} with dtype "
                        f"{array.dtype}: {short_repr(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"Expected `{arg}` to be a non-empty 2-D array [rows, variables]. "
                         f"Received: {arg} of shape {array.shape}")
    if num_vars is not None and array.shape[1] != num_vars:
        raise ValueError(f"Expected `{arg}` to have {num_vars} columns (the model's variables). "
                         f"Received: {arg} of shape {array.shape}")
    return array


def _first_bad(array, bad, arg, expected):
    row, col = np.argwhere(bad)[0]
    value = array[row, col]
    value = float(value) if array.dtype.kind == "f" else int(value)
    raise ValueError(f"Expected `{arg}` to hold {expected}. Received: {arg}[{row}, {col}]="
                     f"{value!r}")


def check_discrete_data(data, arg="data", num_vars=None, num_vals=None):
    """`data` as an int64 array `[rows, num_vars]` of values `0..num_vals-1`.

    Refuses (naming `arg`) non-numeric, non-finite, fractional, negative or too large values,
    a wrong number of columns, and an empty array.
    """
    array = _numeric_table(data, arg, num_vars, "int values 0, 1, ...")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            _first_bad(array, bad, arg, "whole numbers")
    if array.dtype.kind in "fu" and array.max() > 2 ** 62:        # would wrap in the int64 cast
        _first_bad(array, array > 2 ** 62, arg, "values 0, 1, ... (small ints)")
    array = array.astype(np.int64)
    too_large = np.zeros_like(array, bool) if num_vals is None else array >= num_vals
    if array.min() < 0 or too_large.any():
        span = "0, 1, ..." if num_vals is None else f"0..{num_vals - 1}"
        _first_bad(array, (array < 0) | too_large, arg, f"values {span}")
    return array


def check_continuous_data(data, arg="data", num_vars=None):
    """`data` as a float64 array `[rows, num_vars]` of finite real values (naming `arg`)."""
    array = _numeric_table(data, arg, num_vars, "real numbers").astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        _first_bad(array, bad, arg, "finite values")
    return array


def values_per_variable(data, num_vals):
    """`num_vals` checked against int `data` (None: the largest value + 1, at least 2)."""
    from spnlab.graph._checks import check_positive_int
    largest = int(data.max()) + 1
    if num_vals is None:
        return max(2, largest)
    num_vals = check_positive_int(num_vals, "num_vals")
    if num_vals < largest:
        raise ValueError(f"Expected `num_vals` > every value of `data` (largest "
                         f"{largest - 1}). Received: num_vals={num_vals}")
    return num_vals


def write_debd(directory, name, train, valid, test):
    """Write a dataset in the DEBD layout (`<directory>/<name>/<name>.<split>.data`); returns
    the dataset's folder. For tests, smoke runs and users' own data."""
    folder = os.path.join(os.fspath(directory), name)
    os.makedirs(folder, exist_ok=True)
    for split, part in zip(SPLITS, (train, valid, test)):
        np.savetxt(os.path.join(folder, f"{name}.{split}.data"),
                   check_discrete_data(part, split), fmt="%d", delimiter=",")
    return folder


def _read_split(path):
    try:
        with open(path) as file:
            lines = [line.strip() for line in file if line.strip()]
    except OSError as error:
        raise FileNotFoundError(f"Cannot read the benchmark file {path}: {error.strerror}") \
            from None
    try:
        rows = [[int(value) for value in line.split(",")] for line in lines]
        array = np.array(rows, dtype=np.int64)
    except ValueError:
        raise ValueError(f"Expected {path} to hold comma-separated ints, one row per line, all "
                         f"rows of the same length.") from None
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"Expected {path} to hold a non-empty table of ints.")
    if array.min() < 0:
        raise ValueError(f"Expected {path} to hold values 0, 1, ... Found {array.min()}.")
    return array


def debd_names(directory):
    """The dataset names under `directory` (sub-directories holding `<name>.train.data`)."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Expected `directory` to be a directory of DEBD datasets. "
                                f"Received: directory={directory!r} (not a directory)")
    return sorted(name for name in os.listdir(directory)
                  if os.path.isfile(os.path.join(directory, name, f"{name}.train.data")))


def load_debd(name, directory):
    """The dataset `name` from `directory/<name>/<name>.{train,valid,test}.data` (a directory
    that holds the three files directly works too). Errors name the missing or bad file."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"Expected `name` to be a dataset name (str). Received: name={name!r}")
    try:
        directory = os.fspath(directory)
    except TypeError:
        raise TypeError(f"Expected `directory` to be a path. Received: directory={directory!r}") \
            from None
    folder = os.path.join(directory, name)
    if not os.path.isdir(folder):
        folder = directory
    paths = {split: os.path.join(folder, f"{name}.{split}.data") for split in SPLITS}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"Dataset {name!r} is missing {', '.join(missing)}. Expected "
                                f"<directory>/{name}/{name}.{{train,valid,test}}.data.")
    splits = {split: _read_split(path) for split, path in paths.items()}
    widths = {split: a.shape[1] for split, a in splits.items()}
    if len(set(widths.values())) != 1:
        raise ValueError(f"Dataset {name!r}: the splits have different numbers of variables: "
                         f"{widths}")
    return Dataset(name, splits["train"], splits["valid"], splits["test"])


def bits_per_variable(log_likelihood, num_vars):
    """A mean log-likelihood in nats per row as bits per variable: `-ll / (num_vars ln 2)`."""
    return -float(log_likelihood) / (num_vars * math.log(2.0))
