"""Capturing and restoring a session's complete state in memory, and the one rollback.

Used three ways: a failed change rolls back to the state before it (`_all_or_nothing`), a
comparison run starts every mode from the same state, and a checkpoint writes the same state to
files; the last two through the public `Session.capture_state()` / `restore_state()`. The state
is everything a step reads or changes: weights, sum ops with their generators' states, optimiser
variables, data order, history, tap buffer and counters.
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


class StateMixin:
    """`capture_state`, `restore_state` and the one rollback (`_all_or_nothing`). A mixin of
    `Session`: the only code that reads and writes the session's state as a whole."""

    def capture_state(self):
        """A copy of everything a step reads or changes (`SessionState`): weights, sum ops and
        their generators, optimisers, data order, history, taps and counters."""
        return SessionState(
            config=self.config.to_dict(),
            ops=[list(op_state(layer.sum_op)) for layer in self._trainable.sum_layers],
            model_values=[np.array(v.numpy()) for v in self.model.variables],
            optimizer_state=self._optimizers.state(),
            stream=self._stream.state(),
            history=self.history.copy(),
            taps=self.taps.records(),
            counters=dict(self._counters),
        )

    def restore_state(self, state):
        """Put a `capture_state()` back (same model structure); all or nothing.

        A state whose `model_values` is None leaves the weights as they are (a checkpoint loads
        them from its own file)."""
        with self._busy("restore a state"):
            self._atomic(lambda: self._put_state(state))

    def _put_state(self, state):
        """`restore_state` without the lock and the rollback (the rollback's own restore).

        Sum ops go first: switching an op may convert accumulators, which the stored values
        then overwrite.
        """
        self._config = SessionConfig.from_dict(state.config)
        layers = self._trainable.sum_layers
        if len(layers) != len(state.ops):
            raise ValueError(f"State has {len(state.ops)} sum layers; the model has "
                             f"{len(layers)}")
        for layer, (spec, generator_state) in zip(layers, state.ops):
            layer.set_sum_op(self._op_pool.restored(layer, spec, generator_state))
        if state.model_values is not None:        # None: the caller loads the weights itself
            _assign_all(self.model.variables, state.model_values)
        self._optimizers.set_state(self.model, self._config, state.optimizer_state)
        self._stream.set_state(state.stream)
        self.history = state.history.copy()
        self.taps.resize(self._config.taps.capacity, self._config.taps.dead_window)
        self.taps.restore(state.taps)
        self._counters = dict(state.counters)
        self._invalidate()

    def _atomic(self, fn):
        """Run `fn()`; on any exception put the whole state back and re-raise."""
        with self._all_or_nothing("state"):
            return fn()

    @contextlib.contextmanager
    def _all_or_nothing(self, scope="state"):
        """Run the block; on any exception put the session back as it was and re-raise.

        Args:
            scope: what the block may change: "step" (variable values, the data position, the
                records and counters: a cheap save, ~2 ms on teaching-size models), "state"
                (the whole `SessionState`: a switch, a settings change) or "objects" (also the
                model, the data and what is built from them: a reset or rebuild).
        """
        if scope not in ("step", "state", "objects"):
            raise ValueError(f"Expected `scope` in ('step', 'state', 'objects'). "
                             f"Received: scope={scope!r}")
        if scope == "step":
            variables = (list(self.model.variables) + self._optimizers.all_variables()
                         + [l.sum_op.generator.state for l in self._trainable.sum_layers
                            if l.sum_op.generator is not None])
            snapshot = VariableSnapshot(variables)
            stream, counters = self._stream.state(), dict(self._counters)
            lengths = (len(self.history.steps), len(self.history.switches))
            tap_records = self.taps.records()
        else:
            objects = {name: getattr(self, name) for name in _OBJECTS} \
                if scope == "objects" else None
            saved = self.capture_state()
        try:
            yield
        except BaseException:
            if scope == "step":
                snapshot.restore()
                self._stream.set_state(stream)
                self._counters = counters
                self.history.truncate(*lengths)
                self.taps.restore(tap_records)
            else:
                for name, value in (objects or {}).items():
                    setattr(self, name, value)
                self._put_state(saved)
            raise


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
            "_steps", "_trainable", "structure_run")
