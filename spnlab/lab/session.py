"""`Session`: one object that owns a model, its data, optimisers and per-layer sum ops.

It steps, switches sum ops live, records history and signal taps, and tells observers; it never
imports a UI toolkit. Every state change is all-or-nothing: a step, switch, config change or
reset that raises leaves the session exactly as it was (weights, optimisers, generators, data
position, history, taps), because the state is captured first and put back on failure
(`spnlab.lab.state`, the one rollback).

The session keeps the state and orchestrates; the model behind one interface is
`spnlab.lab.trainable`, and its other parts live beside it: capturing, restoring and rolling
back its state (`state.py`), steps (`stepping.py`), queries (`queries.py`), running and Play
(`running.py`), sum-op switches (`switching.py`), settings, reset and rebuild (`settings.py`),
trace-ahead (`tracing.py`), comparisons (`compare.py`) and checkpoints (`checkpoint.py`). The
last two use only the session's public surface (`capture_state`, `restore_state`, `config`,
`custom_reset_point`, `muted`, `iter_steps`, `comparison_hold`).
"""
import contextlib
import threading

import numpy as np

from spnlab.lab.build import build_model
from spnlab.lab.config import LEARNED_STRUCTURES, as_config
from spnlab.lab.data import BatchStream, benchmark, digits, digits_grey, from_arrays
from spnlab.lab.events import EventBus
from spnlab.lab.examples import build_example, example_data
from spnlab.lab.graph_model import as_graph_model
from spnlab.lab.history import History
from spnlab.lab.learned import finished_run, learned_data, new_run
from spnlab.lab.ops import derived_seed, make_op, op_from_state, op_label, op_state
from spnlab.lab.optim import OptimizerGroups
from spnlab.lab.queries import QueryMixin
from spnlab.lab.reuse import OpPool, StepCache
from spnlab.lab.running import RunMixin
from spnlab.lab.settings import SettingsMixin
from spnlab.lab.state import StateMixin
from spnlab.lab.stepping import StepMixin
from spnlab.lab.switching import SwitchMixin
from spnlab.lab.tap_records import TapBuffer
from spnlab.lab.tracing import TraceAheadMixin
from spnlab.lab.trainable import trainable
from spnlab.lab.trainer import Evaluator





class Session(StateMixin, RunMixin, QueryMixin, StepMixin, TraceAheadMixin, SwitchMixin,
              SettingsMixin):
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
        structure_run: for a learned structure ("learnspn", "learnspn_clt", "hclt"), the
            finished `StructureRun` that learned it (its decisions, curve and validation rows);
            else None. See `spnlab.lab.learned`.

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
        self.structure_run = self._offered_run = None      # learned structures
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
        offered, self._offered_run = self._offered_run, None
        if cfg.structure == "example":                     # the data are the teacher's samples
            self.teacher, self.model = build_example(cfg, cfg.sum_op or "em")
            self.data = example_data(self.teacher, cfg)
            self.structure_run = None
        elif cfg.structure in LEARNED_STRUCTURES:          # see spnlab.lab.learned
            data = self._load_data(cfg)
            run = finished_run(cfg, data, (offered, self.structure_run))
            self.data, self.structure_run = learned_data(run, data), run
            # a fresh graph with the learner's weights; the run's own stays as learned
            self.model = as_graph_model(run.learner.graph(), make_op("em", 0))
        else:
            self.data = self._load_data(cfg)
            self.structure_run = None
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

    def _load_data(self, cfg):
        """The config's `DataSet` (not for the teaching examples, which sample their own)."""
        if cfg.dataset == "digits":
            return digits(cfg.binarize_threshold, cfg.test_fraction, cfg.seed)
        if cfg.dataset == "digits_grey":
            return digits_grey(cfg.test_fraction, cfg.seed)
        if cfg.dataset == "custom":
            data = from_arrays(self._user_data, cfg.test_fraction, cfg.seed)
            if cfg.structure in ("poon_domingos", "dgcspn"):       # image structures
                data.image_shape = tuple(cfg.image_shape)
            return data
        return benchmark(cfg.dataset, cfg.data_dir)

    def structure_run_for(self, prepare_ahead=True, **changes):
        """A new, unstepped `StructureRun` for the learned structure of the config with
        `changes` (rebuild's settings, e.g. `structure="learnspn"`), over that config's data;
        the session itself does not change. Step it, then hand it over with
        `rebuild(**changes, structure_run=run)`: the session trains that structure."""
        cfg = self._config.replace(**changes)
        if cfg.structure not in LEARNED_STRUCTURES:
            raise ValueError(f"Expected a learned `structure` in {LEARNED_STRUCTURES}. "
                             f"Received: structure={cfg.structure!r}")
        return new_run(cfg, self._load_data(cfg), prepare_ahead=prepare_ahead)

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

    @property
    def custom_reset_point(self):
        """For a custom model, what `reset()` puts back: `(ops, values)`, per sum layer its op's
        `(spec, generator state)` and the model's variable values as the model was given (a
        checkpoint saves it); None for the other structures. Settable, e.g. by a checkpoint
        restoring a session whose model was given already trained."""
        point = self._initial_custom_state
        return None if point is None else (list(point[0]), list(point[1]))

    @custom_reset_point.setter
    def custom_reset_point(self, point):
        ops, values = point
        if self._config.structure != "custom":
            raise ValueError("Expected a session with a custom model. "
                             f"Received: structure={self._config.structure!r}")
        counts = (len(self._trainable.sum_layers), len(self.model.variables))
        if (len(ops), len(values)) != counts:
            raise ValueError(f"Expected a reset point with {counts[0]} sum ops and {counts[1]} "
                             f"variable values. Received: {len(ops)} and {len(values)}")
        self._initial_custom_state = ([tuple(op) for op in ops],
                                      [np.array(value) for value in values])

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

    def muted(self):
        """A context manager: no observer is told of anything inside the block (a comparison
        replays steps, switches and settings nobody should see)."""
        return self._events.muted()

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

    def _invalidate(self):
        """Drop the compiled step (after a switch, optimiser or tap change). The evaluator
        keeps one compiled forward pass per accumulator-space combination."""
        self._compiled = None

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
