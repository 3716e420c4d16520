"""Capturing and restoring a session's complete state in memory, and the one rollback.

Used three ways: a failed change rolls back to the state before it (`all_or_nothing`), a
comparison run starts every mode from the same state, and a checkpoint writes the same state to
files. The state is everything a step reads or changes: weights, sum ops with their generators'
states, optimiser variables, data order, history, tap buffer and counters.
"""
import contextlib
from dataclasses import dataclass

import numpy as np

from spnlab.lab.config import SessionConfig
from spnlab.lab.ops import op_state


class VariableSnapshot:
    """Values of a list of variables, to put back with `restore()`."""

    def __init__(self, variables):
        self._variables = list(variables)
        self._values = [np.array(v.numpy()) for v in self._variables]

    def restore(self):
        for variable, value in zip(self._variables, self._values):
            variable.assign(value)


@dataclass
class SessionState:
    """A session's state (see the module docstring). Arrays are copies."""

    config: dict
    ops: list                 # per sum layer: [spec dict, generator state or None]
    model_values: list        # arrays in `model.variables` order (or None, see restore)
    optimizer_state: dict     # group -> arrays
    stream: dict
    history: object           # a History copy
    taps: list                # TapRecords
    counters: dict            # step, switches, wall_time


def capture(session):
    return SessionState(
        config=session.config.to_dict(),
        ops=[list(op_state(layer.sum_op)) for layer in session._trainable.sum_layers],
        model_values=[np.array(v.numpy()) for v in session.model.variables],
        optimizer_state=session._optimizers.state(),
        stream=session._stream.state(),
        history=session.history.copy(),
        taps=session.taps.records(),
        counters=dict(session._counters),
    )


def restore(session, state):
    """Put `state` back into `session` (same model structure).

    Sum ops go first: switching an op may convert accumulators, which the stored values then
    overwrite.
    """
    session._config = SessionConfig.from_dict(state.config)
    layers = session._trainable.sum_layers
    if len(layers) != len(state.ops):
        raise ValueError(f"State has {len(state.ops)} sum layers; the model has {len(layers)}")
    for layer, (spec, generator_state) in zip(layers, state.ops):
        layer.set_sum_op(session._op_pool.restored(layer, spec, generator_state))
    if state.model_values is not None:            # None: the caller loads the weights itself
        _assign_all(session.model.variables, state.model_values)
    session._optimizers.set_state(session.model, session._config, state.optimizer_state)
    session._stream.set_state(state.stream)
    session.history = state.history.copy()
    session.taps.resize(session._config.taps.capacity, session._config.taps.dead_window)
    session.taps.restore(state.taps)
    session._counters = dict(state.counters)
    session._invalidate()


def _assign_all(variables, values):
    if len(variables) != len(values):
        raise ValueError(f"State has {len(values)} model variables; the model has {len(variables)}")
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != tuple(np.shape(value)):
            raise ValueError(f"State value of shape {np.shape(value)} does not fit variable "
                             f"{variable.path} of shape {tuple(variable.shape)}")
        variable.assign(value)


# What a rebuild replaces: the model, its data and everything built from them.
_OBJECTS = ("_config", "data", "model", "_entries", "_optimizers", "_stream", "history", "taps",
            "_counters", "_evaluator", "_compiled", "teacher", "_image_input", "_op_pool",
            "_steps", "_trainable")


@contextlib.contextmanager
def all_or_nothing(session, scope="state"):
    """Run the block; on any exception put the session back as it was and re-raise.

    Args:
        scope: what the block may change: "step" (variable values, the data position, the
            records and counters: a cheap save, ~2 ms on teaching-size models), "state" (the
            whole `SessionState`: a switch, a settings change) or "objects" (also the model, the
            data and what is built from them: a reset or rebuild).
    """
    if scope not in ("step", "state", "objects"):
        raise ValueError(f"Expected `scope` in ('step', 'state', 'objects'). "
                         f"Received: scope={scope!r}")
    if scope == "step":
        variables = (list(session.model.variables) + session._optimizers.all_variables()
                     + [l.sum_op.generator.state for l in session._trainable.sum_layers
                        if l.sum_op.generator is not None])
        snapshot = VariableSnapshot(variables)
        stream, counters = session._stream.state(), dict(session._counters)
        lengths = (len(session.history.steps), len(session.history.switches))
        tap_records = session.taps.records()
    else:
        objects = {name: getattr(session, name) for name in _OBJECTS} \
            if scope == "objects" else None
        saved = capture(session)
    try:
        yield
    except BaseException:
        if scope == "step":
            snapshot.restore()
            session._stream.set_state(stream)
            session._counters = counters
            session.history.truncate(*lengths)
            session.taps.restore(tap_records)
        else:
            for name, value in (objects or {}).items():
                setattr(session, name, value)
            restore(session, saved)
        raise
