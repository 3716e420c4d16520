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
import json
import os
import shutil
import tempfile

import h5py
import keras
import numpy as np

from spnlab.lab import state as state_lib
from spnlab.lab.config import SessionConfig
from spnlab.lab.history import History
from spnlab.lab.tap_records import records_from_flat, records_to_flat

FORMAT = "spnlab.lab.checkpoint"
VERSION = 1


def save(session, path):
    """Write `session`'s complete state to the folder `path` (replaced if it exists)."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    state = state_lib.capture(session)
    tmp = tempfile.mkdtemp(prefix=".checkpoint-", dir=parent)
    try:
        session.model.save_weights(os.path.join(tmp, "model.weights.h5"))
        if session._config.structure == "custom":
            session.model.save(os.path.join(tmp, "model.keras"))
        tap_arrays, tap_index = records_to_flat(state.taps)
        with h5py.File(os.path.join(tmp, "state.h5"), "w") as f:
            for group, values in state.optimizer_state.items():
                for i, value in enumerate(values):
                    f[f"optimizer/{group}/{i}"] = value
            for key, value in tap_arrays.items():
                f[f"taps/{key}"] = value
            f["data/train"], f["data/test"] = session.data.train, session.data.test
            initial = session._initial_custom_state
            if initial is not None:
                for i, value in enumerate(initial[1]):
                    f[f"initial/values/{i}"] = value
        meta = {
            "format": FORMAT, "version": VERSION, "config": state.config, "ops": state.ops,
            "stream": state.stream, "counters": state.counters,
            "history": state.history.to_dict(), "taps": tap_index,
            "optimizer_groups": {g: len(v) for g, v in state.optimizer_state.items()},
            "data": {"name": session.data.name, "image_shape": session.data.image_shape},
            "initial_ops": None if session._initial_custom_state is None
            else [list(op) for op in session._initial_custom_state[0]],
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
    path = os.fspath(path)
    meta_path = os.path.join(path, "session.json")
    if not os.path.isfile(meta_path):
        raise ValueError(f"Expected `path` to be a checkpoint folder. Received: path={path!r}")
    with open(meta_path) as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"Expected a {FORMAT} checkpoint of version {VERSION}. Received: "
                         f"format={meta.get('format')!r}, version={meta.get('version')!r}")
    config = SessionConfig.from_dict(meta["config"])
    with h5py.File(os.path.join(path, "state.h5"), "r") as f:
        optimizer_state = {g: [np.array(f[f"optimizer/{g}/{i}"]) for i in range(n)]
                           for g, n in meta["optimizer_groups"].items()}
        tap_arrays = {}
        if "taps" in f:
            f["taps"].visititems(lambda name, obj: tap_arrays.__setitem__(name, np.array(obj))
                                 if isinstance(obj, h5py.Dataset) else None)
        train, test = np.array(f["data/train"]), np.array(f["data/test"])
        initial_values = None
        if "initial" in f:
            n = len(f["initial/values"])
            initial_values = [np.array(f[f"initial/values/{i}"]) for i in range(n)]
    model = None
    if config.structure == "custom":
        model = keras.saving.load_model(os.path.join(path, "model.keras"), safe_mode=True,
                                        compile=False)
    if config.structure == "example":
        # The teacher and its samples come back from the config's seed, as they were made.
        session = cls(config)
        if not (np.array_equal(session.data.train, train)
                and np.array_equal(session.data.test, test)):
            raise ValueError(f"The example data rebuilt from the checkpoint's config differ "
                             f"from the saved rows. Received: checkpoint {path!r}")
    else:
        session = cls(config, model=model, data=(train, test))
    # The constructor marks given data as custom; put back what the config said.
    session._config = config
    session.data.name = meta["data"]["name"]
    session.data.image_shape = None if meta["data"]["image_shape"] is None \
        else tuple(meta["data"]["image_shape"])
    if initial_values is not None:
        session._initial_custom_state = ([tuple(op) for op in meta["initial_ops"]], initial_values)
    state = state_lib.SessionState(
        config=meta["config"], ops=meta["ops"], model_values=None,
        optimizer_state=optimizer_state, stream=meta["stream"],
        history=History.from_dict(meta["history"]),
        taps=records_from_flat(tap_arrays, meta["taps"]), counters=meta["counters"])
    state_lib.restore(session, state)
    session.model.load_weights(os.path.join(path, "model.weights.h5"))
    session._invalidate()
    return session
