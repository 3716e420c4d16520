"""Comparing learning modes: every mode starts from the same weights, generators and data order.

`compare(session, modes, num_steps)` captures the session's state, and for each mode puts it
back, applies the mode (a sum op for all layers and/or live settings), runs `num_steps` steps
with observers muted, and collects the history rows and tap summaries. The session is returned
to the captured state at the end, so comparing is free of side effects.

`compare_async` does the same in an asyncio task (a notebook's Compare button): it yields to
the event loop after every step and reports the rows so far; `session.stop()` ends it early
with the rows run until then. While it runs, other changes and queries of the session are
refused (they would act on the state of the mode being run).
"""
import asyncio
import contextlib
from dataclasses import dataclass, field

from spnlab.lab.config import LIVE_FIELDS
from spnlab.lab.ops import canonical_spec, op_label

TAP_SUMMARY_FIELDS = ("entropy", "entropy_norm", "dead_fraction")
COLUMNS = ("mode", "step", "wall_time", "train_ll", "test_ll", "train_bpd", "test_bpd")


def normalize_modes(modes):
    """`[(label, {"sum_op": spec or None, **live settings})]` from a list or a dict of modes.

    A mode is a sum-op spec ("hard_em", a dict with "op", a core sum op) or a dict with
    optional "sum_op" and live settings (e.g. `{"sum_op": "grad", "gradient_learning_rate": 0.1}`).
    """
    if isinstance(modes, dict):
        items = list(modes.items())
    elif isinstance(modes, (list, tuple)):
        items = [(None, m) for m in modes]
    else:
        raise TypeError("Expected `modes` to be a list or dict of modes. "
                        f"Received: modes={modes!r}")
    if not items:
        raise ValueError(f"Expected at least one mode. Received: modes={modes!r}")
    out = []
    for label, mode in items:
        if isinstance(mode, dict) and "op" not in mode:
            settings = dict(mode)
            spec = settings.pop("sum_op", None)
            unknown = sorted(set(settings) - set(LIVE_FIELDS))
            if unknown:
                raise ValueError(f"Unknown mode settings {unknown}; modes take 'sum_op' and "
                                 f"{list(LIVE_FIELDS)}. Received: {mode!r}")
        else:
            spec, settings = mode, {}
        spec = None if spec is None else canonical_spec(spec, "modes")
        if label is None:
            label = op_label(spec) if spec is not None else f"mode {len(out) + 1}"
        if not isinstance(label, str):
            raise TypeError(f"Expected mode labels to be strings. Received: {label!r}")
        if any(label == existing for existing, _ in out):
            raise ValueError(f"Expected distinct mode labels. Received {label!r} twice")
        out.append((label, {"sum_op": spec, **settings}))
    return out


@dataclass
class CompareResult:
    """The tidy table of a comparison and per-mode tap summaries.

    Attributes:
        rows: one dict per (mode, step) with `COLUMNS`; `step` counts from 1 in every mode and
            `wall_time` is the training time since the mode started.
        taps: `{mode: {layer key: {"steps": [...], "entropy": [...], "entropy_norm": [...],
            "dead_fraction": [...]}}}` (empty when taps are off).
        modes: `{mode: its settings}`.
    """

    rows: list
    taps: dict = field(default_factory=dict)
    modes: dict = field(default_factory=dict)

    def to_records(self):
        return [dict(r) for r in self.rows]

    def curve(self, mode, column="test_ll", x="step"):
        """`(xs, ys)` of one mode, leaving out rows where `column` is None."""
        if column not in COLUMNS or x not in COLUMNS:
            raise ValueError(f"Expected columns among {COLUMNS}. Received: {column!r}, {x!r}")
        if mode not in self.modes:
            raise ValueError(f"Expected a mode in {list(self.modes)}. Received: mode={mode!r}")
        pairs = [(r[x], r[column]) for r in self.rows
                 if r["mode"] == mode and r[column] is not None]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def final(self, column="train_ll"):
        """`{mode: last non-None value of column}`."""
        return {m: (self.curve(m, column)[1] or [None])[-1] for m in self.modes}


def compare(session, modes, num_steps, test_every=None, taps=None, progress=False):
    """Run each mode for `num_steps` steps from the session's current state.

    Args:
        modes: see `normalize_modes`.
        num_steps: steps per mode.
        test_every: override the test cadence for the comparison (None: the session's).
        taps: True/False to force taps on/off for the comparison (None: as configured).
        progress: a progress bar per mode.
    """
    steps = _comparison(session, modes, num_steps, test_every, taps, progress)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


async def compare_async(session, modes, num_steps, on_update=None, test_every=None, taps=None):
    """`compare` for an event loop: after every step it calls `on_update(partial result)` (if
    given) and yields to the loop. `session.stop()` ends the comparison between steps; the
    result then holds the rows run so far. Returns the `CompareResult`."""
    steps = _comparison(session, modes, num_steps, test_every, taps, progress=False)
    while True:
        try:
            partial = next(steps)
        except StopIteration as done:
            return done.value
        if on_update is not None:
            on_update(partial)
        await asyncio.sleep(0)


def _comparison(session, modes, num_steps, test_every, taps, progress):
    """The comparison as a generator: yields a partial `CompareResult` after every step and
    returns the final one. Between its steps the session refuses other calls."""
    modes = normalize_modes(modes)
    if session.is_running:
        raise RuntimeError("A run is in progress; stop() it and let it end first.")
    base = session.capture_state()
    rows, tap_summaries, stopped = [], {}, False
    labels = {label: mode for label, mode in modes}
    try:
        with session.muted():
            for label, mode in modes:
                if stopped:
                    break
                session.restore_state(base)
                settings = {k: v for k, v in mode.items() if k != "sum_op"}
                if test_every is not None:
                    settings["test_every"] = test_every
                tap_settings = {} if taps is None else {"enabled": bool(taps)}
                tap_config = session.config.taps
                if tap_settings.get("enabled", tap_config.enabled):
                    # keep every step of the run in the buffer for the summary
                    tap_settings["capacity"] = max(tap_config.capacity, num_steps)
                if tap_settings:
                    settings["taps"] = tap_settings
                if settings:
                    session.update_config(**settings)
                if mode["sum_op"] is not None:
                    session.set_sum_op("all", mode["sum_op"])
                start_wall = session.wall_time
                n = 0
                with contextlib.closing(session.iter_steps(num_steps, progress)) as records:
                    for n, record in enumerate(records, 1):
                        rows.append({"mode": label, "step": n,
                                     "wall_time": record.wall_time - start_wall,
                                     "train_ll": record.train_ll, "test_ll": record.test_ll,
                                     "train_bpd": record.train_bpd,
                                     "test_bpd": record.test_bpd})
                        with session.comparison_hold():    # others wait until we are done
                            yield CompareResult(list(rows), {}, labels)
                        # A stop asked for while we yielded after a mode's last step would be
                        # cleared when that run ends, and the next mode would run in full.
                        stopped = session.stop_requested
                        if stopped:
                            break
                stopped = stopped or n < num_steps          # `stop()` ended the run early
                tap_summaries[label] = _tap_summary(session, base.counters["step"])
    finally:
        session.restore_state(base)
    return CompareResult(rows, {k: v for k, v in tap_summaries.items() if v}, labels)


def _tap_summary(session, first_step):
    summary = {}
    for record in session.taps:
        if record.step <= first_step:
            continue
        for key, tap in record.layers.items():
            if tap.kind != "sum":
                continue
            layer = summary.setdefault(key, {"steps": [], **{f: [] for f in TAP_SUMMARY_FIELDS}})
            layer["steps"].append(record.step - first_step)
            for f in TAP_SUMMARY_FIELDS:
                layer[f].append(getattr(tap, f))
    return summary
