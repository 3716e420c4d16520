"""Training steps: one update on the next minibatch, all or nothing, with its history record
and signal taps. A mixin of `Session`."""
import time

import numpy as np

from spnlab.lab.history import StepRecord, bits_per_dim
from spnlab.lab.ops import is_hard, op_label
from spnlab.lab.tap_records import LayerTap, TapRecord, dead_fraction, selection_entropy


def _corrupt(array):
    """NaN or +inf anywhere (a -inf log-weight is a legal zero weight)."""
    return bool(np.isnan(array).any() or np.isposinf(array).any())


class StepMixin:
    """See `Session.step`."""

    def step(self):
        """One update on the next minibatch; returns its `StepRecord` (with `.taps`).

        If anything fails, the session is left exactly as before the step and the error raised.
        """
        with self._busy("step"):
            record = self._guarded_step()
        self._events.emit("step", record)
        return record

    def _guarded_step(self):
        # a step changes only variable values, the data position, records and counters
        with self._all_or_nothing("step"):
            return self._step_once()

    def _compiled_step(self):
        """The training step for the current ops, optimisers and tap settings: the one traced
        for them before if it is still cached, else a new one."""
        if self._compiled is None:
            layers = self._trainable.sum_layers
            objects = [l.sum_op for l in layers] + list(self._optimizers.optimizers.values())
            taps = self._config.taps              # capacity and dead_window: not traced
            settings = (tuple(bool(l.logspace_accumulators) for l in layers), taps.enabled,
                        None if taps.layers is None else tuple(taps.layers),
                        taps.products, taps.bins, taps.values)
            self._compiled = self._steps.get(objects, settings)
            if self._compiled is None:
                step_class = self._trainable.step_class
                extra = {} if self._image_input is None else {"image_shape": self._image_input}
                self._compiled = step_class(self.model, self._entries, self._optimizers,
                                            self._config.taps, self.data.num_vars,
                                            self.data.train.dtype, **extra)
                self._steps.put(objects, settings, self._compiled)
        return self._compiled

    def _step_once(self):
        cfg = self._config
        rows, next_stream = self._stream.next_batch(cfg.batch_size)
        x = self.data.train[rows]
        start = time.perf_counter()
        compiled = self._compiled_step()
        out = compiled(x)
        train_ll = float(out["ll"])
        number = self._counters["step"] + 1
        if np.isnan(train_ll):
            raise FloatingPointError(f"The training log-likelihood of step {number} is NaN; the "
                                     "step was undone. Check the data and learning rates.")
        # NaN or +inf is corruption; -inf is legal (the log of a zero weight, DESIGN.md)
        bad = [v.name for v in self.model.trainable_variables
               if _corrupt(np.asarray(v.numpy()))]
        if bad:
            raise FloatingPointError(f"Step {number} made {bad} NaN or +inf; the step was "
                                     "undone. Check the learning rates.")
        test_ll = None
        if cfg.test_every and number % cfg.test_every == 0 and len(self.data.test):
            test_ll = float(np.mean(self._evaluator(self.data.test)))
        taps = self._tap_record(number, out["taps"], compiled.points) if "taps" in out else None
        elapsed = time.perf_counter() - start
        n_vars = self.data.num_vars
        record = StepRecord(step=number, epoch=next_stream["epoch"], batch_size=len(rows),
                            train_ll=train_ll, train_bpd=bits_per_dim(train_ll, n_vars),
                            test_ll=test_ll, test_bpd=bits_per_dim(test_ll, n_vars),
                            step_time=elapsed, wall_time=self._counters["wall_time"] + elapsed,
                            sum_ops=self.sum_ops, taps=taps)
        self._stream.commit(next_stream)
        self.history.append(record)
        if taps is not None:
            self.taps.append(taps)
        self._counters["step"] = number
        self._counters["wall_time"] = record.wall_time
        return record

    def _tap_record(self, number, raw, points):
        layers = {}
        for point in points:
            t = raw[point.key]                             # a RawTap of numpy arrays
            op = point.layer.sum_op if point.kind == "sum" else None
            tap = LayerTap(kind=point.kind, op=None if op is None else op_label(op),
                           forward=_scalars(t.forward),
                           signal_out=None if t.signal_out is None else _scalars(t.signal_out),
                           signal_in=None if t.signal_in is None else _scalars(t.signal_in),
                           values=t.values)
            if point.kind == "sum":
                counts = t.counts.astype(np.float64)
                if is_hard(op):
                    counts = np.rint(counts)               # winner counts are integers
                tap.weight_signal, tap.counts = t.weight_signal, counts
                tap.entropy, tap.entropy_norm = selection_entropy(counts)
                tap.dead_fraction = dead_fraction(self.taps.window_counts(point.key, counts))
            layers[point.key] = tap
        return TapRecord(number, layers)


def _scalars(stats):
    """Tap statistics with 0-d arrays as Python floats."""
    return {k: (v.item() if np.ndim(v) == 0 else v) for k, v in stats.items()}
