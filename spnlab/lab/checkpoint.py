"""Checkpoints: a folder from which a session resumes bit-for-bit.

    session.json        config, sum ops with their generators' states, data order, counters,
                        history and the tap index (JSON)
    model.weights.h5    the model's weights (Keras)
    model.keras         the architecture too, for custom models (Keras, loaded with safe_mode)
    state.h5            optimiser variables, tap arrays, the data rows, and a custom model's
                        initial state for `reset` (plain HDF5 datasets)

Nothing is pickled, and nothing is loaded with pickle. The folder is written next to `path`
first and moved into place at the end, so a failed checkpoint never leaves a half-written one.
"""
import contextlib
import json
import os
import shutil
import tempfile

import h5py
import keras
import numpy as np

from spnlab.lab.state import SessionState
from spnlab.lab.config import SessionConfig
from spnlab.lab.history import History
from spnlab.lab.tap_records import records_from_flat, records_to_flat

FORMAT = "spnlab.lab.checkpoint"
VERSION = 1


def _check_path(path):
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"Expected `path` to be a str or os.PathLike (a folder). "
                        f"Received: path={path!r}") from None


@contextlib.contextmanager
def _reading(path, name):
    """Name the file, and what is wrong with it, in any error raised while reading it (a
    truncated `state.h5`, broken JSON, a missing entry)."""
    file = os.path.join(path, name)
    try:
        yield file
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise CheckpointError(f"Expected a readable checkpoint file {file!r}. It could not be "
                              f"read ({what})") from error


class CheckpointError(ValueError):
    """A checkpoint file that is missing, truncated, corrupt or holds non-finite values."""


def _check_finite(arrays, file, what):
    """Refuse NaN and +inf (corruption); -inf is legal (a log-weight of a zero weight)."""
    for name, array in arrays:
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.floating) and (np.isnan(array).any()
                                                         or np.isposinf(array).any()):
            raise CheckpointError(f"Expected finite {what} in the checkpoint file {file!r}. "
                                  f"Received NaN or +inf in {name}")


def save(session, path):
    """Write `session`'s complete state to the folder `path` (replaced if it exists)."""
    path = _check_path(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    state = session.capture_state()
    reset_point = session.custom_reset_point
    tmp = tempfile.mkdtemp(prefix=".checkpoint-", dir=parent)
    try:
        session.model.save_weights(os.path.join(tmp, "model.weights.h5"))
        if state.config["structure"] == "custom":
            session.model.save(os.path.join(tmp, "model.keras"))
        tap_arrays, tap_index = records_to_flat(state.taps)
        with h5py.File(os.path.join(tmp, "state.h5"), "w") as f:
            for group, values in state.optimizer_state.items():
                for i, value in enumerate(values):
                    f[f"optimizer/{group}/{i}"] = value
            for key, value in tap_arrays.items():
                f[f"taps/{key}"] = value
            f["data/train"], f["data/test"] = session.data.train, session.data.test
            if session.data.valid is not None:    # a learned structure's validation rows
                f["data/valid"] = session.data.valid
            if reset_point is not None:
                for i, value in enumerate(reset_point[1]):
                    f[f"initial/values/{i}"] = value
        meta = {
            "format": FORMAT, "version": VERSION, "config": state.config, "ops": state.ops,
            "stream": state.stream, "counters": state.counters,
            "history": state.history.to_dict(), "taps": tap_index,
            "optimizer_groups": {g: len(v) for g, v in state.optimizer_state.items()},
            "data": {"name": session.data.name, "image_shape": session.data.image_shape},
            "initial_ops": None if reset_point is None
            else [list(op) for op in reset_point[0]],
        }
        with open(os.path.join(tmp, "session.json"), "w") as f:
            json.dump(meta, f)
        _move_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp, path):
    old = None
    if os.path.exists(path):
        if not os.path.isfile(os.path.join(path, "session.json")):
            raise ValueError(f"Expected `path` to be a new folder or a checkpoint. Received: "
                             f"path={path!r}, which holds something else")
        old = tmp + ".old"
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def load(cls, path):
    """A new `cls` (Session) continuing from the checkpoint folder `path`."""
    path = _check_path(path)
    meta_path = os.path.join(path, "session.json")
    if not os.path.isfile(meta_path):
        raise ValueError(f"Expected `path` to be a checkpoint folder. Received: path={path!r}")
    with _reading(path, "session.json") as file:
        with open(file) as f:
            meta = json.load(f)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT \
                or meta.get("version") != VERSION:
            found = meta if not isinstance(meta, dict) else \
                f"format={meta.get('format')!r}, version={meta.get('version')!r}"
            raise CheckpointError(f"Expected a {FORMAT} checkpoint of version {VERSION} in "
                                  f"{file!r}. Received: {found}")
        config = SessionConfig.from_dict(meta["config"])
        for key in ("optimizer_groups", "ops", "stream", "counters", "history", "taps",
                    "data"):
            meta[key]                                     # KeyError names a missing entry
    with _reading(path, "state.h5") as file, h5py.File(file, "r") as f:
        optimizer_state = {g: [np.array(f[f"optimizer/{g}/{i}"]) for i in range(n)]
                           for g, n in meta["optimizer_groups"].items()}
        tap_arrays = {}
        if "taps" in f:
            f["taps"].visititems(lambda name, obj: tap_arrays.__setitem__(name, np.array(obj))
                                 if isinstance(obj, h5py.Dataset) else None)
        train, test = np.array(f["data/train"]), np.array(f["data/test"])
        # with the validation rows, a learned structure is learned again from the same rows
        rows = (train, np.array(f["data/valid"]), test) if "data/valid" in f else (train, test)
        initial_values = None
        if "initial" in f:
            n = len(f["initial/values"])
            initial_values = [np.array(f[f"initial/values/{i}"]) for i in range(n)]
        _check_finite([(f"optimizer/{g}/{i}", v) for g, values in optimizer_state.items()
                       for i, v in enumerate(values)], file, "optimiser state")
    model = None
    if config.structure == "custom":
        with _reading(path, "model.keras") as file:
            model = keras.saving.load_model(file, safe_mode=True, compile=False)
    if config.structure == "example":
        # The teacher and its samples come back from the config's seed, as they were made.
        session = cls(config)
        if not (np.array_equal(session.data.train, train)
                and np.array_equal(session.data.test, test)):
            raise ValueError(f"The example data rebuilt from the checkpoint's config differ "
                             f"from the saved rows. Received: checkpoint {path!r}")
    else:
        session = cls(config, model=model, data=rows)
    session.data.name = meta["data"]["name"]
    session.data.image_shape = None if meta["data"]["image_shape"] is None \
        else tuple(meta["data"]["image_shape"])
    if initial_values is not None:
        with _reading(path, "state.h5"):
            session.custom_reset_point = (meta["initial_ops"], initial_values)
    # The constructor marks given data as custom; the state puts back what the config said.
    with _reading(path, "session.json"):         # its history and tap index
        state = SessionState(
            config=meta["config"], ops=meta["ops"], model_values=None,
            optimizer_state=optimizer_state, stream=meta["stream"],
            history=History.from_dict(meta["history"]),
            taps=records_from_flat(tap_arrays, meta["taps"]), counters=meta["counters"])
        session.restore_state(state)
    with _reading(path, "model.weights.h5") as file:
        session.model.load_weights(file)
        _check_finite([(w.path, w.numpy()) for w in session.model.weights], file, "weights")
    return session
