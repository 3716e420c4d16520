"""`Session`: one object that owns a model, its data, optimisers and per-layer sum ops.

It steps, switches sum ops live, records history and signal taps, and tells observers; it never
imports a UI toolkit. Every state change is all-or-nothing: a step, switch, config change or
reset that raises leaves the session exactly as it was (weights, optimisers, generators, data
position, history, taps), because the state is captured first and put back on failure.
"""
import atexit
import contextlib
import gc
import threading
import time
import weakref

import numpy as np

from spnlab.lab import state as state_lib
from spnlab.lab.build import build_model
from spnlab.lab.config import (DIGITS_FIELDS, LIVE_FIELDS, RATSPN_FIELDS, STRUCTURAL_FIELDS,
                               TapSettings, as_config)
from spnlab.lab.data import BatchStream, digits, digits_grey, from_arrays
from spnlab.lab.events import EventBus
from spnlab.lab.examples import build_example, example_data
from spnlab.lab.graph_model import as_graph_model
from spnlab.lab.history import History, StepRecord, SwitchRecord, bits_per_dim
from spnlab.lab.ops import (canonical_spec, derived_seed, is_hard, make_op, op_from_state,
                            op_label, op_state, uses_em_optimizer)
from spnlab.lab.optim import OptimizerGroups
from spnlab.lab.queries import QueryMixin
from spnlab.lab.reuse import OpPool, StepCache
from spnlab.lab.running import RunMixin
from spnlab.lab.tap_records import LayerTap, TapBuffer, TapRecord, dead_fraction, \
    selection_entropy
from spnlab.lab.trainable import trainable
from spnlab.lab.trainer import Evaluator

def _corrupt(array):
    """NaN or +inf anywhere (a -inf log-weight is a legal zero weight)."""
    return bool(np.isnan(array).any() or np.isposinf(array).any())


# Rows used to check that a switch keeps the distribution.
SWITCH_CHECK_ROWS = 512

# Trace-ahead threads still running. TensorFlow aborts the process ("terminate called ...")
# when the interpreter exits while one of its threads traces: wait for them at exit.
_LIVE_TRACERS = weakref.WeakSet()
atexit.register(lambda: [t.join() for t in list(_LIVE_TRACERS)])


class Session(RunMixin, QueryMixin):
    """A UI-free SPN training session.

    Args:
        config: None (defaults), a preset name ("digits", "classroom", "hard_em", ...), a dict
            or a `SessionConfig`.
        model: a built layer SPN (e.g. `SequentialSumProductNetwork`), a node graph
            (`spnlab.graph.GraphModel`, or a root node, compiled with the graph's variables in
            creation order as the data columns) to use instead of the config's RAT-SPN
            (`structure` becomes "custom"). Its sum ops are replaced by the config's `sum_op`
            unless `sum_op=None` is given. A node graph is one sum layer `S1` (one op for all
            its sums; see `spnlab.lab.graph_model`).
        data: an array `[N, V]` (split by `test_fraction`) or a `(train, test)` pair instead of
            the digits (`dataset` becomes "custom").
        **overrides: config fields, e.g. `batch_size=32`.

    Attributes:
        trace_ahead: whenever the training step must be built anew (when this is turned on,
            after a sum-op switch, a settings change, a reset or rebuild), trace it and warm
            it up (one call on an empty batch, which changes nothing) on a background thread
            while the user looks at the views (the workbench turns this on), so that the next
            step does not wait ~0.5-1 s for TensorFlow. Queries run meanwhile; anything that
            changes the session first waits for it. The objects alive after each of these
            traces are then frozen (`gc.freeze`) so that Python's full garbage collections skip
            the traced graphs (otherwise 150-330 ms pauses); a reset, a rebuild or setting
            `trace_ahead` unfreezes them.
        teacher: for `structure="example"`, the example graph with the weights that generated
            the data (the model learns a copy of it from fresh weights); else None.

    Example:
        s = Session("classroom", seed=1)
        s.run(20, progress=False)
        s.set_sum_op("all", "hard_em")
        record = s.step()
        s.taps.series("S1", "entropy")
    """

    def __init__(self, config=None, *, model=None, data=None, **overrides):
        if model is not None:
            overrides["structure"] = "custom"
        if data is not None:
            overrides["dataset"] = "custom"
        self._config = as_config(config, **overrides)
        if self._config.structure == "custom" and model is None:
            raise ValueError("Expected `model` with structure='custom'. Received: model=None")
        if self._config.dataset == "custom" and data is None:
            raise ValueError("Expected `data` with dataset='custom'. Received: data=None")
        self._user_model, self._user_data = model, data
        self._initial_custom_state = None
        self._events = EventBus()
        self._lock = threading.RLock()
        self._busy_flag = False
        self._comparing = False        # between the steps of an asynchronous comparison
        self._trace_ahead = False
        self._freeze_lock = threading.Lock()
        self._tracer = None
        self._stop_requested = False
        self._running = False
        self._setup()

    # -- construction ------------------------------------------------------------------------
    def _setup(self):
        """(Re)build data, model, ops, optimisers and empty records from the config."""
        cfg = self._config
        self.teacher = None
        if cfg.structure == "example":                     # the data are the teacher's samples
            self.teacher, self.model = build_example(cfg, cfg.sum_op or "em")
            self.data = example_data(self.teacher, cfg)
        else:
            if cfg.dataset == "digits":
                self.data = digits(cfg.binarize_threshold, cfg.test_fraction, cfg.seed)
            elif cfg.dataset == "digits_grey":
                self.data = digits_grey(cfg.test_fraction, cfg.seed)
            else:
                self.data = from_arrays(self._user_data, cfg.test_fraction, cfg.seed)
                if cfg.structure in ("poon_domingos", "dgcspn"):   # image structures
                    self.data.image_shape = tuple(cfg.image_shape)
            if cfg.structure != "custom":
                top = max(self.data.train.max(initial=0), self.data.test.max(initial=0))
                self.model = build_model(cfg, self.data.num_vars, cfg.sum_op or "em",
                                         num_vals=max(2, int(np.ceil(top)) + 1))
            else:
                self.model = self._prepare_custom_model()
        # the model behind one interface (layer model or node graph: `spnlab.lab.trainable`)
        self._trainable = trainable(self.model)
        self._entries = self._trainable.entries
        self._op_pool, self._steps = OpPool(), StepCache()       # see `spnlab.lab.reuse`
        # A spatial (DGC-SPN) model reads images `[B, H, W, C]`; the session's rows are flat.
        self._image_input = self._trainable.image_input
        self._trainable.fit_data(self.data)
        self._apply_config_ops(switches=0)
        self._optimizers = OptimizerGroups()
        self._optimizers.sync(self.model, cfg)
        self._stream = BatchStream(len(self.data.train), cfg.seed)
        self.history = History()
        self.taps = TapBuffer(cfg.taps.capacity, cfg.taps.dead_window)
        self._counters = {"step": 0, "switches": 0, "wall_time": 0.0}
        self._evaluator = Evaluator(self.model, self._trainable.sum_layers,
                                    image_shape=self._image_input)
        self._compiled = None

    def _prepare_custom_model(self):
        model = self._user_model = as_graph_model(self._user_model, make_op("em", 0))
        sum_layers = trainable(model).sum_layers      # a TypeError for anything else
        if not model.built:
            model.build((None, self.data.num_vars))
        if self._initial_custom_state is None:
            # Reset puts the user's model back exactly as it was given.
            self._initial_custom_state = (
                [op_state(l.sum_op) for l in sum_layers],
                [np.array(v.numpy()) for v in model.variables])
        else:
            ops, values = self._initial_custom_state
            for layer, (spec, generator) in zip(sum_layers, ops):
                layer.set_sum_op(op_from_state(spec, generator))
            for variable, value in zip(model.variables, values):
                variable.assign(value)
        return model

    def _apply_config_ops(self, switches):
        """Give every sum layer its op from `sum_op` / `layer_sum_ops` (fresh, seeded per layer)."""
        cfg = self._config
        keys = {e.key for e in self._entries if e.kind == "sum"}
        unknown = sorted(set(cfg.layer_sum_ops) - keys)
        if unknown:
            raise ValueError(f"Expected `layer_sum_ops` keys among {sorted(keys)}. "
                             f"Received: {unknown}")
        for entry in self._sum_entries():
            spec = cfg.layer_sum_ops.get(entry.key, cfg.sum_op)
            if spec is None:                        # keep the custom model's own op
                spec = op_state(entry.layer.sum_op)[0]
            entry.layer.set_sum_op(self._op_pool.op(
                entry.layer, spec, derived_seed(cfg.seed, entry.position, switches)))
        self._check_tap_layers(cfg.taps)

    def _check_tap_layers(self, taps):
        unknown = sorted(set(taps.layers or ()) - set(self.layer_keys))
        if unknown:
            raise ValueError(f"Expected `taps.layers` among {self.layer_keys}. "
                             f"Received: {unknown}")

    @property
    def trace_ahead(self):
        return self._trace_ahead

    @property
    def is_tracing(self):
        """Whether a trace-ahead thread is building the next training step right now (the
        next step or change waits for it)."""
        return self._tracer is not None and self._tracer[0].is_alive()

    @trace_ahead.setter
    def trace_ahead(self, enabled):
        with self._freeze_lock:
            self._trace_ahead = bool(enabled)
            gc.unfreeze()          # what an earlier interactive session froze may be garbage
        if not enabled:
            self._join_tracer()    # no thread of this session runs on after it is turned off
        self._start_trace_ahead()

    def _freeze_for_collector(self):
        """After a trace-ahead: freeze what is alive (`gc.freeze`), so that Python's full
        collections skip the traced graphs (~10^5-10^6 long-lived objects; walking them costs
        150-330 ms pauses on 2 cores, landing on a later Step or switch). Steps the cache
        forgot since the last freeze are cyclic garbage that a freeze would keep: they are
        collected first, here in the background. Reset and rebuild unfreeze."""
        with self._freeze_lock:
            if not self._trace_ahead:          # switched off meanwhile: nothing stays frozen
                return
            if self._steps.take_dropped():
                gc.unfreeze()
                gc.collect()
            gc.freeze()

    # -- read-only views ---------------------------------------------------------------------
    @property
    def config(self):
        """A copy of the configuration (change it with `update_config`, `rebuild`, `set_sum_op`)."""
        return self._config.replace()

    @property
    def step_count(self):
        return self._counters["step"]

    @property
    def wall_time(self):
        """Training seconds so far (sum of step times)."""
        return self._counters["wall_time"]

    @property
    def observer_errors(self):
        """Exceptions raised by observers (`ObserverError`), most recent last."""
        return self._events.errors

    @property
    def optimizers(self):
        """`{"em": "OnlineExpectationMaximization(lr=0.05)", "gradient": "Adam(lr=0.05)"}` for
        the optimiser groups in use."""
        return self._optimizers.labels()

    @property
    def layer_keys(self):
        return [e.key for e in self._entries]

    @property
    def sum_ops(self):
        """`{sum-layer key: op label}`."""
        return {e.key: op_label(e.layer.sum_op) for e in self._sum_entries()}

    @property
    def layers(self):
        """One dict per leaf / product / sum layer: key, title (the name every view shows,
        e.g. "S1 (leaves)" ... "S4 (root)"), Keras name, kind, op, weights shape."""
        out = []
        sums = [e.key for e in self._sum_entries()]
        for e in self._entries:
            is_sum = e.kind == "sum"
            out.append({"key": e.key, "title": _layer_title(e.key, e.kind, sums),
                        "name": e.layer.name, "kind": e.kind,
                        "op": op_label(e.layer.sum_op) if is_sum else None,
                        "weights_shape": _weights_shape(e.layer) if is_sum else None,
                        "num_weights": int(sum(np.prod(v.shape)
                                               for v in e.layer.trainable_variables))})
        return out

    def _sum_entries(self):
        return [e for e in self._entries if e.kind == "sum"]

    def _entry(self, key):
        for e in self._entries:
            if e.key == key:
                return e
        raise ValueError(f"Expected a layer key in {self.layer_keys}. Received: key={key!r}")

    # -- events --------------------------------------------------------------------------------
    def subscribe(self, event, callback):
        """Call `callback(payload)` on "step", "switch", "reset" or "config"; returns an
        unsubscribe function. Exceptions in callbacks land in `observer_errors`."""
        return self._events.subscribe(event, callback)

    def unsubscribe(self, event, callback):
        self._events.unsubscribe(event, callback)

    # -- all-or-nothing changes ------------------------------------------------------------------
    @contextlib.contextmanager
    def _busy(self, what, query=False):
        """One state change or query at a time; a second one (another thread, or an observer
        calling back into the session from inside a step) gets a clear error. A change (not a
        `query`) first waits for a trace-ahead thread to finish."""
        with self._lock:
            if self._comparing:
                raise RuntimeError(f"Cannot {what} while a comparison is running; stop() it "
                                   "or wait for it to end.")
            if self._busy_flag:
                raise RuntimeError(f"Cannot {what} while the session is busy with another step, "
                                   "switch or query; call it between steps.")
            self._busy_flag = True
            try:
                if not query:
                    self._join_tracer()
                yield
            finally:
                self._busy_flag = False

    def _start_trace_ahead(self):
        """Build the next training step, trace and warm it on a background thread
        (`trace_ahead`)."""
        if not self._trace_ahead or self._tracer is not None or self._busy_flag \
                or self._comparing:                  # the next change starts it
            return
        with self._busy("trace ahead"):
            if self._compiled is not None:
                return
            compiled = self._compiled_step()
            evaluator = self._evaluator if self._config.test_every else None
            row_shape, dtype = self.data.test.shape[1:], self.data.test.dtype
        failed = []

        def work():
            try:
                compiled.warm()
                if evaluator is not None:
                    evaluator.warm(row_shape, dtype)
            except Exception as error:  # noqa: BLE001 - the step builds it again, raising
                failed.append(error)       # there if the failure was not the empty batch's
            else:
                self._freeze_for_collector()

        self._tracer = (threading.Thread(target=work, name="spnlab-trace", daemon=True),
                        failed)
        self._tracer[0].start()
        _LIVE_TRACERS.add(self._tracer[0])

    def _join_tracer(self):
        if self._tracer is None:
            return
        thread, failed = self._tracer
        thread.join()
        self._tracer = None
        if failed:
            self._compiled = None                # built again (and failing) in the step

    def _atomic(self, fn):
        """Run `fn()`; on any exception put the whole state back and re-raise."""
        saved = state_lib.capture(self)
        try:
            return fn()
        except BaseException:
            state_lib.restore(self, saved)
            raise

    def _invalidate(self):
        """Drop the compiled step (after a switch, optimiser or tap change). The evaluator
        keeps one compiled forward pass per accumulator-space combination."""
        self._compiled = None

    # -- training --------------------------------------------------------------------------------
    def step(self):
        """One update on the next minibatch; returns its `StepRecord` (with `.taps`).

        If anything fails, the session is left exactly as before the step and the error raised.
        """
        with self._busy("step"):
            record = self._guarded_step()
        self._events.emit("step", record)
        return record

    def _guarded_step(self):
        # A cheaper capture than `state_lib.capture`: a step changes only variable values, the
        # data position, the records and counters, so only those are saved (~2 ms here; it
        # grows with the model, which the lab expects to be teaching-size).
        variables = (list(self.model.variables) + self._optimizers.all_variables()
                     + [l.sum_op.generator.state for l in self._trainable.sum_layers
                        if l.sum_op.generator is not None])
        snapshot = state_lib.VariableSnapshot(variables)
        stream, counters = self._stream.state(), dict(self._counters)
        lengths = (len(self.history.steps), len(self.history.switches))
        tap_records = self.taps.records()
        try:
            return self._step_once()
        except BaseException:
            snapshot.restore()
            self._stream.set_state(stream)
            self._counters = counters
            self.history.truncate(*lengths)
            self.taps.restore(tap_records)
            raise

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
            t = raw[point.key]
            op = point.layer.sum_op if point.kind == "sum" else None
            tap = LayerTap(kind=point.kind, op=None if op is None else op_label(op),
                           forward=_scalars(t["forward"]),
                           signal_out=_scalars(t["signal_out"]) if "signal_out" in t else None,
                           signal_in=_scalars(t["signal_in"]) if "signal_in" in t else None,
                           values=t.get("values"))
            if point.kind == "sum":
                counts = t["counts"].astype(np.float64)
                if is_hard(op):
                    counts = np.rint(counts)               # winner counts are integers
                tap.weight_signal, tap.counts = t["weight_signal"], counts
                tap.entropy, tap.entropy_norm = selection_entropy(counts)
                tap.dead_fraction = dead_fraction(self.taps.window_counts(point.key, counts))
            layers[point.key] = tap
        return TapRecord(number, layers)

    # -- live sum-op switches ----------------------------------------------------------------------
    def set_sum_op(self, layer, op):
        """Switch the sum op of `layer` between steps, keeping the distribution.

        Args:
            layer: "all", a sum-layer key ("S2"), a Keras layer name, an index among the sum
                layers, a sum layer, or a list of these.
            op: a sum-op name ("grad", "em", "hard_em", "unweighted_hard_em", "sample"), a dict
                (`{"op": "hard_em", "sample_prob": 0.1}`) or a core sum op (copied per layer).

        Accumulators are converted between log and linear space as the new op needs, and the
        layers move between the online-EM and gradient optimisers as needed (a group whose
        layers change starts afresh). Returns the `SwitchRecord` (also in `history.switches`).
        """
        entries = self._resolve_layers(layer)
        spec = canonical_spec(op, "op")
        with self._busy("switch sum ops"):
            record = self._atomic(lambda: self._switch(entries, spec))
        self._events.emit("switch", record)
        self._start_trace_ahead()
        return record

    def _resolve_layers(self, layer):
        sums = self._sum_entries()
        if isinstance(layer, str) and layer == "all":
            return sums
        items = list(layer) if isinstance(layer, (list, tuple)) else [layer]
        if not items:
            raise ValueError(f"Expected at least one layer. Received: layer={layer!r}")
        chosen = []
        for item in items:
            match = None
            if isinstance(item, bool):
                match = None
            elif isinstance(item, (int, np.integer)):
                match = sums[int(item)] if -len(sums) <= int(item) < len(sums) else None
            elif isinstance(item, str):
                match = next((e for e in sums if item in (e.key, e.layer.name)), None)
            else:
                match = next((e for e in sums if e.layer is item), None)
            if match is None:
                raise ValueError(f"Expected `layer` to be 'all', a sum-layer key "
                                 f"({', '.join(e.key for e in sums)}), a layer name, an index or "
                                 f"a sum layer of this model. Received: layer={item!r}")
            if match not in chosen:
                chosen.append(match)
        return chosen

    def _check_rows(self):
        rows = self.data.test if len(self.data.test) else self.data.train
        return rows[:SWITCH_CHECK_ROWS]

    def _switch(self, entries, spec):
        # Eager evaluation here: the compiled forward pass would be traced again after the switch.
        check_rows = self._check_rows()
        ll_before = float(np.mean(self._model_log_likelihood(check_rows), dtype=np.float64))
        switches = self._counters["switches"] + 1
        old, new, reset = {}, {}, set()
        for entry in entries:
            old_op = entry.layer.sum_op
            new_op = self._op_pool.op(entry.layer, spec,
                                      derived_seed(self._config.seed, entry.position, switches))
            entry.layer.set_sum_op(new_op)        # converts log <-> linear in float64
            for op in (old_op, new_op):
                reset.add("em" if uses_em_optimizer(op) else "gradient")
            old[entry.key], new[entry.key] = op_label(old_op), op_label(new_op)
        fresh = self._optimizers.sync(self.model, self._config, reset=reset)
        self._invalidate()
        ll_after = float(np.mean(self._model_log_likelihood(check_rows), dtype=np.float64))
        if len(entries) == len(self._sum_entries()):
            self._config = self._config.replace(sum_op=spec, layer_sum_ops={})
        else:
            layer_ops = dict(self._config.layer_sum_ops)
            layer_ops.update({e.key: spec for e in entries})
            self._config = self._config.replace(layer_sum_ops=layer_ops)
        self._counters["switches"] = switches
        record = SwitchRecord(step=self.step_count, layers=[e.key for e in entries], old=old,
                              new=new, ll_before=ll_before, ll_after=ll_after,
                              optimizers_reset=sorted(fresh))
        self.history.append_switch(record)
        return record

    # -- settings ----------------------------------------------------------------------------------
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

    def rebuild(self, **changes):
        """Apply structural (and any live) setting changes and start over, as `reset`."""
        for name in changes:
            if name not in STRUCTURAL_FIELDS and name not in LIVE_FIELDS:
                raise ValueError("Expected settings among "
                                 f"{list(STRUCTURAL_FIELDS + LIVE_FIELDS)}. "
                                 f"Received: {name}={changes[name]!r}")
        self._rebuild(changes, "rebuild")

    def _rebuild(self, changes, reason):
        new_config = self._config.replace(**changes)
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
        with self._busy(reason):
            saved = (self._config, self.data, self.model, self._entries, self._optimizers,
                     self._stream, self.history, self.taps, self._counters, self._evaluator,
                     self._compiled, self.teacher, self._image_input, self._op_pool,
                     self._steps, self._trainable, state_lib.capture(self))
            try:
                self._config = new_config
                self._setup()
            except BaseException:
                (self._config, self.data, self.model, self._entries, self._optimizers,
                 self._stream, self.history, self.taps, self._counters, self._evaluator,
                 self._compiled, self.teacher, self._image_input, self._op_pool,
                 self._steps, self._trainable, captured) = saved
                state_lib.restore(self, captured)
                raise
        self._events.emit("reset", {"reason": reason, "changes": dict(changes)})
        with self._freeze_lock:
            if self._trace_ahead:
                gc.unfreeze()           # the old model's graphs may now be collected
        self._start_trace_ahead()

    # -- comparison and checkpoints -------------------------------------------------------------
    def compare(self, modes, num_steps, **kwargs):
        """Run several learning modes from the current state; see `spnlab.lab.compare.compare`."""
        from spnlab.lab.compare import compare
        return compare(self, modes, num_steps, **kwargs)

    async def compare_async(self, modes, num_steps, on_update=None, **kwargs):
        """`compare` in an asyncio task, reporting the rows after every step; `stop()` ends it
        (see `spnlab.lab.compare.compare_async`)."""
        from spnlab.lab.compare import compare_async
        return await compare_async(self, modes, num_steps, on_update, **kwargs)

    def checkpoint(self, path):
        """Save everything needed to resume exactly (see `spnlab.lab.checkpoint`)."""
        from spnlab.lab.checkpoint import save
        with self._busy("checkpoint"):
            save(self, path)
        return path

    @classmethod
    def restore(cls, path):
        """A session continuing exactly where `checkpoint(path)` left off."""
        from spnlab.lab.checkpoint import load
        return load(cls, path)

    def __repr__(self):
        return (f"Session(structure={self._config.structure!r}, dataset={self._config.dataset!r}, "
                f"step={self.step_count}, sum_ops={self.sum_ops})")


def _weights_shape(layer):
    """A sum layer's accumulator shape; a node graph's: the shapes of its weight buckets."""
    acc = layer.accumulators
    if isinstance(acc, (list, tuple)):
        return [tuple(v.shape) for v in acc]
    return tuple(acc.shape)


def _scalars(stats):
    """Tap statistics with 0-d arrays as Python floats."""
    return {k: (v.item() if np.ndim(v) == 0 else v) for k, v in stats.items()}


def _layer_title(key, kind, sum_keys):
    """"S1 (leaves)" for the sum layer over the leaves, "Sk (root)" for the top one, the key
    for the others; a node-graph model's one sum "layer" holds every sum."""
    if kind != "sum":
        return "leaves" if kind == "leaf" else key
    if len(sum_keys) == 1:
        return f"{key} (all sums)"
    if key == sum_keys[0]:
        return f"{key} (leaves)"
    return f"{key} (root)" if key == sum_keys[-1] else key
