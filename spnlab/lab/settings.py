"""Live setting changes, reset and rebuild. A mixin of `Session`."""
import gc

from spnlab.lab.config import (DIGITS_FIELDS, LIVE_FIELDS, RATSPN_FIELDS, STRUCTURAL_FIELDS,
                               TapSettings)


class SettingsMixin:
    """See `Session.update_config`, `reset` and `rebuild`."""

    def update_config(self, **changes):
        """Change live settings between steps: batch_size, em_learning_rate,
        accumulate_batches, gradient_optimizer, gradient_learning_rate, test_every, taps
        (a dict merged into the current tap settings). Structural settings need `rebuild`."""
        for name in changes:
            if name in STRUCTURAL_FIELDS:
                raise ValueError(f"`{name}` changes the model or data; use "
                                 f"session.rebuild({name}=...). Received: {name}={changes[name]!r}")
            if name not in LIVE_FIELDS:
                raise ValueError(f"Expected live settings among {list(LIVE_FIELDS)} (sum ops: "
                                 f"set_sum_op). Received: {name}={changes[name]!r}")
        if "taps" in changes:
            taps = changes["taps"]
            if isinstance(taps, TapSettings):
                taps = taps.__dict__
            if not isinstance(taps, dict):
                raise TypeError("Expected `taps` to be a dict or TapSettings. "
                                f"Received: taps={taps!r}")
            changes = {**changes, "taps": {**self._config.taps.__dict__, **taps}}
        new_config = self._config.replace(**changes)
        with self._busy("change the config"):
            self._atomic(lambda: self._apply_live(new_config))
        self._events.emit("config", dict(changes))
        self._start_trace_ahead()
        return self.config

    def set_taps(self, **settings):
        """Shorthand for `update_config(taps={...})`, e.g. `set_taps(enabled=False)`."""
        return self.update_config(taps=settings)

    def _apply_live(self, new):
        old, self._config = self._config, new
        reset = set()
        if (new.em_learning_rate, new.accumulate_batches) != (old.em_learning_rate,
                                                              old.accumulate_batches):
            if new.accumulate_batches != old.accumulate_batches:
                reset.add("em")
        if new.gradient_optimizer != old.gradient_optimizer:
            reset.add("gradient")
        self._optimizers.set_learning_rates(new)
        if reset:
            self._optimizers.sync(self.model, new, reset=reset)
            self._invalidate()
        if new.taps != old.taps:
            self._check_tap_layers(new.taps)
            self.taps.resize(new.taps.capacity, new.taps.dead_window)
            self._compiled = None

    def reset(self, seed=None):
        """Start over: fresh weights (the config's RAT-SPN from `seed`, or the custom model as
        it was given), data order from the seed, empty history and taps. Current settings and
        sum ops are kept."""
        changes = {} if seed is None else {"seed": seed}
        self._rebuild(changes, "reset")

    def rebuild(self, structure_run=None, **changes):
        """Apply structural (and any live) setting changes and start over, as `reset`.

        `structure_run`: a `StructureRun` from `structure_run_for(**changes)`, stepped as far as
        you like, whose structure the session then trains (it is run to its end first); without
        it a learned structure is learned in one go."""
        for name in changes:
            if name not in STRUCTURAL_FIELDS and name not in LIVE_FIELDS:
                raise ValueError("Expected settings among "
                                 f"{list(STRUCTURAL_FIELDS + LIVE_FIELDS)}. "
                                 f"Received: {name}={changes[name]!r}")
        self._rebuild(changes, "rebuild", structure_run)

    def _rebuild(self, changes, reason, structure_run=None):
        new_config = self._config.replace(**changes)
        if structure_run is not None:
            from spnlab.lab.learned import run_key
            if getattr(structure_run, "session_key", None) != run_key(new_config):
                raise ValueError("Expected `structure_run` from session.structure_run_for() "
                                 "with the same settings as this rebuild. Received: "
                                 f"structure_run={structure_run!r}, changes={changes!r}")
        if "custom" in (new_config.dataset, self._config.dataset) and \
                new_config.dataset != self._config.dataset or (
                new_config.structure != self._config.structure
                and "custom" in (new_config.structure, self._config.structure)):
            raise ValueError("`dataset` and a custom model's `structure` are fixed for a "
                             f"session; build a new Session instead. Received: {changes!r}")
        ignored = [name for name in changes
                   if (name in RATSPN_FIELDS and new_config.structure == "custom")
                   or (name in DIGITS_FIELDS and new_config.dataset == "custom")]
        if ignored:
            raise ValueError(f"{ignored} do not apply to a custom model / data set. "
                             f"Received: {changes!r}")
        with self._busy(reason), self._all_or_nothing("objects"):
            self._config = new_config
            self._offered_run = structure_run
            try:
                self._setup()
            finally:
                self._offered_run = None
        self._events.emit("reset", {"reason": reason, "changes": dict(changes)})
        with self._freeze_lock:
            if self._trace_ahead:
                gc.unfreeze()           # the old model's graphs may now be collected
        self._start_trace_ahead()
