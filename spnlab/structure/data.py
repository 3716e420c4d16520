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


def check_discrete_data(data, arg="data", num_vars=None, num_vals=None):
    """`data` as an int64 array `[rows, num_vars]` of values `0..num_vals-1`.

    Refuses (naming `arg`) non-numeric, non-finite, fractional, negative or too large values,
    a wrong number of columns, and an empty array.
    """
    try:
        array = np.asarray(data)
    except Exception:                                   # ragged lists and the like
        raise TypeError(f"Expected `{arg}` to be a 2-D array of ints. "
                        f"Received: {arg}={short_repr(data)}") from None
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"Expected `{arg}` to hold int values 0, 1, ... Received: {arg} with "
                        f"dtype {array.dtype}: {short_repr(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"Expected `{arg}` to be a non-empty 2-D array [rows, variables]. "
                         f"Received: {arg} of shape {array.shape}")
    if num_vars is not None and array.shape[1] != num_vars:
        raise ValueError(f"Expected `{arg}` to have {num_vars} columns (the model's variables). "
                         f"Received: {arg} of shape {array.shape}")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(f"Expected `{arg}` to hold whole numbers. Received: "
                             f"{arg}[{row}, {col}]={float(array[row, col])!r}")
    if array.dtype.kind in "fu" and array.max() > 2 ** 62:        # would wrap in the int64 cast
        row, col = np.argwhere(array > 2 ** 62)[0]
        raise ValueError(f"Expected `{arg}` to hold values 0, 1, ... (small ints). Received: "
                         f"{arg}[{row}, {col}]={array[row, col]!r}")
    array = array.astype(np.int64)
    if array.min() < 0 or (num_vals is not None and array.max() >= num_vals):
        row, col = np.argwhere((array < 0) | (array >= (num_vals or np.inf)))[0]
        span = "0, 1, ..." if num_vals is None else f"0..{num_vals - 1}"
        raise ValueError(f"Expected `{arg}` to hold values {span}. "
                         f"Received: {arg}[{row}, {col}]={array[row, col]}")
    return array


def check_continuous_data(data, arg="data", num_vars=None):
    """`data` as a float64 array `[rows, num_vars]` of finite real values (naming `arg`)."""
    try:
        array = np.asarray(data)
    except Exception:
        raise TypeError(f"Expected `{arg}` to be a 2-D array of numbers. "
                        f"Received: {arg}={short_repr(data)}") from None
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"Expected `{arg}` to hold real numbers. Received: {arg} with dtype "
                        f"{array.dtype}: {short_repr(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"Expected `{arg}` to be a non-empty 2-D array [rows, variables]. "
                         f"Received: {arg} of shape {array.shape}")
    if num_vars is not None and array.shape[1] != num_vars:
        raise ValueError(f"Expected `{arg}` to have {num_vars} columns (the model's variables). "
                         f"Received: {arg} of shape {array.shape}")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"Expected finite values in `{arg}`. Received: "
                         f"{arg}[{row}, {col}]={float(array[row, col])!r}")
    return array


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
