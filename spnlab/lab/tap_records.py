"""Signal taps on the host: per-step records, a bounded ring buffer, entropy and dead children.

- Child-selection entropy of a sum j: H_j = -sum_i p_ij log p_ij (nats), p_ij = n_ij / sum_i n_ij
  from the step's counts n; a layer reports the mean over the sums the batch reached, and the
  same divided by log(num children) (`entropy_norm`, 1 = uniform, 0 = one child always wins).
- Dead-child fraction: among the edges (child i of sum j) of sums reached in the last K steps,
  the fraction whose child was never chosen in those steps (count exactly 0). Under hard EM this
  is how self-amplification shows; under soft EM counts are rarely exactly 0.
"""
import collections
from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass
class LayerTap:
    """One layer's signals in one step (see `taps.py` for the definitions)."""

    kind: str
    op: Optional[str]
    forward: dict
    signal_out: Optional[dict] = None
    signal_in: Optional[dict] = None
    weight_signal: Optional[np.ndarray] = None
    counts: Optional[np.ndarray] = None
    entropy: Optional[float] = None
    entropy_norm: Optional[float] = None
    dead_fraction: Optional[float] = None
    values: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def child_counts(self):
        """Selections of every child node by any of the sums above it, `[S, D, I]`."""
        return None if self.counts is None else self.counts.sum(axis=-1)


@dataclass
class TapRecord:
    """All tapped layers of one step, by layer key."""

    step: int
    layers: dict


def selection_entropy(counts):
    """`(mean entropy in nats, mean of entropy / log(num_children))` over reached sums, or
    Nones.

    Args:
        counts: `[S, D, I, O]` child-selection counts; NaN marks a missing child (node-graph
            weight sets with fewer children than others, see `lab.graph_model`).
    """
    edge = ~np.isnan(counts)
    counts = np.where(edge, counts, 0.0)
    totals = counts.sum(axis=2, keepdims=True)                           # [S, D, 1, O]
    reached = totals[:, :, 0, :] > 0
    if not reached.any():
        return None, None
    p = np.divide(counts, totals, out=np.zeros_like(counts, dtype=np.float64), where=totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    h = terms.sum(axis=2)[reached]                                       # [num reached]
    num_children = edge.sum(axis=2)[reached]                             # [num reached]
    norm = np.divide(h, np.log(num_children), out=np.zeros_like(h), where=num_children > 1)
    return float(h.mean()), float(norm.mean())


def dead_fraction(count_window):
    """Fraction of edges never chosen in `count_window` (a list of `[S, D, I, O]` counts) among
    the sums reached at least once in it; None if none was reached."""
    total = np.sum(count_window, axis=0)                                 # [S, D, I, O]
    missing = np.isnan(total)                                            # no such child
    total = np.where(missing, 0.0, total)
    reached = total.sum(axis=2, keepdims=True) > 0                       # [S, D, 1, O]
    edges = np.broadcast_to(reached, total.shape) & ~missing
    if not edges.any():
        return None
    return float(np.count_nonzero((total <= 0) & edges) / np.count_nonzero(edges))


def _light(record):
    """`record` with only its scalars: what the signal history keeps of older steps."""
    def stats(d):
        return None if d is None else {k: v for k, v in d.items() if np.ndim(v) == 0}
    return TapRecord(record.step, {
        key: LayerTap(kind=tap.kind, op=tap.op, forward=stats(tap.forward) or {},
                      signal_out=stats(tap.signal_out), signal_in=stats(tap.signal_in),
                      entropy=tap.entropy, entropy_norm=tap.entropy_norm,
                      dead_fraction=tap.dead_fraction)
        for key, tap in record.layers.items()})


class TapBuffer:
    """The last `capacity` tap records in full, oldest first, and the scalars of every step
    before them (the signal history of the whole run).

    Memory stays bounded: when more than `2 * history` older steps are kept, every second one
    is dropped, so a long run is shown downsampled over its whole length (the first step is
    always kept).
    """

    def __init__(self, capacity=200, dead_window=20, history=1000):
        self.capacity, self.dead_window, self.history = capacity, dead_window, history
        self._records = collections.deque(maxlen=capacity)
        self._older = []                     # light records, oldest first, evenly thinned

    def __len__(self):
        return len(self._records)

    def __iter__(self):
        return iter(self._records)

    def records(self):
        """Every record kept, oldest first: the light older ones, then the full ones (a copy
        of the list: `restore(records())` puts the buffer back exactly)."""
        return self._older + list(self._records)

    def latest(self):
        return self._records[-1] if self._records else None

    def clear(self):
        self._records.clear()
        self._older = []

    def resize(self, capacity, dead_window):
        kept = self.records()
        self.capacity, self.dead_window = capacity, dead_window
        self.restore(kept)

    def append(self, record):
        """Add a record; raw forward values are kept for the newest record only (memory); the
        record that leaves the full buffer keeps its scalars in the history."""
        latest = self.latest()
        if latest is not None:
            for tap in latest.layers.values():
                tap.values = None
        if len(self._records) == self.capacity:
            self._older.append(_light(self._records[0]))
            if len(self._older) > 2 * self.history:
                self._older = self._older[::2]
        self._records.append(record)

    def restore(self, records):
        """Replace the contents (rollback, comparison runs, checkpoints) by `records`, oldest
        first: the newest `capacity` in full, scalars of the others."""
        records = list(records)
        split = max(0, len(records) - self.capacity)
        self._older = [_light(r) for r in records[:split]]
        self._records = collections.deque(records[split:], maxlen=self.capacity)

    def window_counts(self, key, current_counts):
        """The counts of layer `key` in the last `dead_window - 1` records plus `current_counts`
        (records whose counts have another shape, e.g. from before a rebuild, are skipped)."""
        window = [current_counts]
        for record in reversed(self._records):
            if len(window) >= self.dead_window:
                break
            tap = record.layers.get(key)
            counts = None if tap is None else tap.counts
            if counts is not None and counts.shape == current_counts.shape:
                window.append(counts)
        return window

    def series(self, key, name):
        """`(steps, values)` of a scalar of layer `key` over the buffer.

        `name` is a `LayerTap` field ("entropy", "dead_fraction", ...) or "group.stat" for the
        statistics dicts ("forward.mean", "signal_out.abs_mean").
        """
        steps, values = [], []
        for record in self.records():
            tap = record.layers.get(key)
            if tap is None:
                continue
            value = _lookup(tap, name)
            steps.append(record.step)
            values.append(None if value is None else float(value))
        return steps, values


def _lookup(tap, name):
    group, _, stat = name.partition(".")
    if not hasattr(tap, group):
        raise ValueError(f"Expected a LayerTap field such as 'entropy' or 'forward.mean'. "
                         f"Received: name={name!r}")
    value = getattr(tap, group)
    if stat:
        if value is None:
            return None
        if stat not in value:
            raise ValueError(f"Expected one of {sorted(value)} after '{group}.'. "
                             f"Received: name={name!r}")
        value = value[stat]
    return value


# -- flat (array-per-key) form for HDF5 checkpoints ------------------------------------------
_ARRAY_FIELDS = ("weight_signal", "counts", "values")
_SCALAR_FIELDS = ("entropy", "entropy_norm", "dead_fraction")


def records_to_flat(records):
    """`{path: array}` and a JSON-able index describing `records`."""
    arrays, index = {}, []
    for n, record in enumerate(records):
        entry = {"step": record.step, "layers": {}}
        for key, tap in record.layers.items():
            base = f"{n}/{key}"
            meta = {"kind": tap.kind, "op": tap.op,
                    **{f: getattr(tap, f) for f in _SCALAR_FIELDS}, "arrays": [], "dicts": {}}
            for f in _ARRAY_FIELDS:
                if getattr(tap, f) is not None:
                    arrays[f"{base}/{f}"] = getattr(tap, f)
                    meta["arrays"].append(f)
            for group in ("forward", "signal_out", "signal_in"):
                stats = getattr(tap, group)
                if stats is None:
                    continue
                meta["dicts"][group] = sorted(stats)
                for stat, value in stats.items():
                    arrays[f"{base}/{group}/{stat}"] = np.asarray(value)
            entry["layers"][key] = meta
        index.append(entry)
    return arrays, index


def records_from_flat(arrays, index):
    """Inverse of `records_to_flat`."""
    records = []
    for n, entry in enumerate(index):
        layers = {}
        for key, meta in entry["layers"].items():
            base = f"{n}/{key}"
            tap = LayerTap(kind=meta["kind"], op=meta["op"], forward={},
                           **{f: meta[f] for f in _SCALAR_FIELDS})
            for f in meta["arrays"]:
                setattr(tap, f, np.asarray(arrays[f"{base}/{f}"]))
            for group, stats in meta["dicts"].items():
                setattr(tap, group, {s: _unwrap(arrays[f"{base}/{group}/{s}"]) for s in stats})
            layers[key] = tap
        records.append(TapRecord(entry["step"], layers))
    return records


def _unwrap(value):
    value = np.asarray(value)
    return value.item() if value.ndim == 0 else value
