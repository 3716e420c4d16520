"""The compiled training step: forward, backward under the layers' sum ops, update, taps.

One `tf.function` per (sum ops, accumulator spaces, optimisers, tap settings): the ops decide
the backward pass at trace time, so the session drops its `CompiledStep` whenever one of those
changes. With taps off the function holds no tap computation at all (zero cost); with taps on
the same single backward pass also yields the signals at every layer output (the intermediate
tensors are watched by the tape), and tap statistics are taken before the weights change.
"""
import numpy as np
import tensorflow as tf

from spnlab.core.layers.fusion import FusedProductSum, call_step, fused_steps
from spnlab.core.ops.functions import own_function
from spnlab.core.ops.logspace import logsumexp
from spnlab.core.queries.runner import model_lock
from spnlab.lab.step_function import StepFunction
from spnlab.lab.taps import TapPoint, raw_tap, selection_counts, signal_stats


def tap_points(steps, entries, settings):
    """The `TapPoint`s for the computation `steps` given the session's layer entries."""
    by_layer = {id(e.layer): e for e in entries}
    wanted = None if settings.layers is None else set(settings.layers)
    points = []
    for index, step in enumerate(steps):
        layer = step.sum_layer if isinstance(step, FusedProductSum) else step
        entry = by_layer.get(id(layer))
        if entry is None:
            continue
        if wanted is None:
            take = entry.kind != "product" or settings.products
        else:
            take = entry.key in wanted
        if take:
            points.append(TapPoint(index, entry.key, entry.kind, layer))
    return points


def model_input(x, image_shape):
    """The session's rows `[B, V]` as the model's input: `[B, H, W, C]` for a spatial model
    (`image_shape` `(H, W, C)`), else unchanged."""
    return x if image_shape is None else tf.reshape(x, [-1, *image_shape])


class CompiledStep(StepFunction):
    """`step(x) -> dict of numpy` for one training step on the batch `x` `[B, V]`.

    Returns `{"ll": mean log p(x) before the update, "taps": {key: {...}}}` (taps only when
    enabled). Variables are updated by `optimizers.apply` inside the function. A spatial model
    (`image_shape` `(H, W, C)`) gets the rows as images.
    """

    def __init__(self, model, entries, optimizers, settings, num_vars, dtype, image_shape=None):
        self._image_shape = image_shape
        wanted = set(settings.layers or ())
        products = settings.products or any(e.kind == "product" and e.key in wanted
                                            for e in entries)
        fuse = not (settings.enabled and products)     # fused pairs never form product values
        self._steps = fused_steps(model.layers, fuse)
        self._points = tap_points(self._steps, entries, settings) if settings.enabled else []
        self._taps = settings.enabled
        self._bins = settings.bins
        self._values = settings.values
        self._model, self._optimizers = model, optimizers
        self._compile(num_vars, dtype)

    def _step(self, x):
        variables = self._model.trainable_variables
        with tf.GradientTape() as tape:
            outputs, h = [], model_input(x, self._image_shape)
            for step in self._steps:
                h = call_step(step, h, training=True)
                if self._taps and h.dtype.is_floating:
                    tape.watch(h)
                outputs.append(h)
            log_p = logsumexp(h, axis=-1) if len(h.shape) == 2 else tf.reshape(h, [-1])   # [B]
            loss = -tf.reduce_mean(log_p)
        float_outputs = ([i for i, o in enumerate(outputs) if o.dtype.is_floating]
                         if self._taps else [])
        grads = tape.gradient(loss, list(variables) + [outputs[i] for i in float_outputs])
        var_grads = {id(v): g for v, g in zip(variables, grads[:len(variables)])}
        out_grads = dict(zip(float_outputs, grads[len(variables):]))
        result = {"ll": tf.reduce_mean(log_p)}
        if self._taps:
            batch_size = tf.shape(x)[0]
            signals = {}                       # signal stats per output, shared by neighbours
            result["taps"] = {p.key: self._tap(p, outputs, out_grads, var_grads, batch_size,
                                               signals) for p in self._points}
        # Taps read the accumulators above; automatic control dependencies keep those reads
        # before the optimiser's writes.
        self._apply_updates(var_grads, x)
        return result

    def _tap(self, point, outputs, out_grads, var_grads, batch_size, signals):
        def stats(index):
            if index not in signals and out_grads.get(index) is not None:
                signals[index] = signal_stats(out_grads[index])
            return signals.get(index)

        h = outputs[point.step_index]
        dy = out_grads.get(point.step_index)
        weight_signal = counts = None
        if point.kind == "sum":
            weight_signal = var_grads.get(id(point.layer.accumulators))
            if weight_signal is None:
                weight_signal = tf.zeros_like(point.layer.accumulators)
            counts = selection_counts(point.layer, weight_signal, dy, batch_size)
        # signal statistics of an output are shared by the layers on either side of it
        return raw_tap(h, self._bins, stats(point.step_index), stats(point.step_index - 1),
                       weight_signal, counts, self._values)


class Evaluator:
    """Per-row log p(x) (float64 numpy) with a compiled forward pass, in chunks.

    The forward value is the same under every sum op, but the traced pass reads each layer's
    accumulator space (log or linear), so one function is kept per combination of spaces.
    """

    def __init__(self, model, sum_layers, chunk=2048, image_shape=None):
        self._model, self._chunk, self._fns = model, chunk, {}
        self._sum_layers = tuple(sum_layers)          # their spaces key the traced passes
        self._image_shape = image_shape

    def clear(self):
        self._fns.clear()

    def _function(self, row_shape, dtype):
        key = (tuple(layer.logspace_accumulators for layer in self._sum_layers),
               tuple(row_shape), np.dtype(dtype).name)
        fn = self._fns.get(key)
        if fn is None:
            model, image_shape = self._model, self._image_shape

            def forward(x):
                h = model(model_input(x, image_shape), training=False)
                return logsumexp(h, axis=-1) if len(h.shape) == 2 else tf.reshape(h, [-1])

            spec = tf.TensorSpec([None, *row_shape], tf.as_dtype(dtype))
            fn = self._fns[key] = own_function(forward, input_signature=[spec],
                                                   autograph=False)
        return fn

    def warm(self, row_shape, dtype):
        """Trace and run the pass for the current spaces on no rows (see `StepFunction.warm`),
        holding the model's lock while tracing as `StepFunction.trace` does."""
        with model_lock(self._model):
            fn = self._function(row_shape, dtype)
            fn.get_concrete_function()
        fn(np.zeros((0, *row_shape), dtype))

    def __call__(self, x):
        fn = self._function(x.shape[1:], x.dtype)
        parts = [fn(x[i:i + self._chunk]).numpy() for i in range(0, len(x), self._chunk)]
        return np.concatenate(parts).astype(np.float64)
