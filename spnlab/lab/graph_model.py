"""Node-graph models in a session: a compiled `GraphModel` (or a root node, compiled here)
trains, switches sum ops, taps and answers queries like a layer model.

A graph has one sum op for all its sums, so it is one sum "layer" for the session, key `S1`
(switch it with `set_sum_op("all", ...)` or `"S1"`). Its tap holds:
- `forward` / `signal_out`: every sum output's log-value / signal, nodes as columns `[B, R]`
  (R sum outputs, bottom-up level order), so `node_mean` and `node_sum` are per sum output;
- `signal_in`: the signal at the leaf outputs `[B, L0]`;
- `weight_signal`: what the op hands the optimiser, flat over the accumulators `[W]`;
- `counts`: the child-selection counts per weight set, `[1, 1, I_max, C]` for the C weight
  sets (one column per set, `I_max` the most children of any set), NaN where a set has fewer
  children: the layout the entropy and dead-child statistics read.
"""
import numpy as np
import tensorflow as tf

from spnlab.graph.keras_model import GraphModel
from spnlab.graph.nodes import Node
from spnlab.graph.sums import BaseSum
from spnlab.lab.step_function import StepFunction
from spnlab.lab.taps import TapPoint, raw_tap, signal_stats


def is_graph_model(model):
    return isinstance(model, GraphModel)


def as_graph_model(model, sum_op):
    """A `GraphModel` for a root `Node` (data columns: the graph's variables in creation
    order), or the model itself."""
    if isinstance(model, Node):
        return GraphModel(model, sum_op=sum_op)
    return model


class CountsLayout:
    """Where each weight set of a `GraphModel` sits in the `[I_max, C]` counts layout, and which
    weight set each sum output uses (for the gradient op's per-set totals)."""

    def __init__(self, model):
        plan = model.plan
        self.buckets = [tuple(v.shape) for v in model.accumulators]       # [count, n, sets]
        self.max_children = max((n for _, n, _ in self.buckets), default=1)
        offsets = np.cumsum([0] + [c * s for c, _, s in self.buckets])
        self.num_columns = int(offsets[-1])
        rows_by_level, columns = {}, []
        for node, (level, rows) in plan.addresses.items():
            if not isinstance(node, BaseSum):
                continue
            k, pos = plan.weights.slot[node.weights]
            sets = self.buckets[k][2]
            for j, row in enumerate(rows):
                rows_by_level.setdefault(level, []).append(int(row))
                columns.append((level, int(row), int(offsets[k] + pos * sets
                                                     + node.weight_sets[j]), node))
        # Sum outputs in level order; `column_of_output[r]`: the weight set of output r.
        columns.sort(key=lambda t: t[:2])
        self.levels = sorted(rows_by_level)
        self.rows = {level: [row for lv, row, _, _ in columns if lv == level]
                     for level in self.levels}
        self.column_of_output = np.asarray([c for _, _, c, _ in columns], np.int64)
        self.outputs_of = {}                                  # {sum node: [output r]}
        for r, (_, _, _, node) in enumerate(columns):
            self.outputs_of.setdefault(node, []).append(r)

    def gather(self, levels):
        """The sum outputs' rows of `levels` as `[B, R]`."""
        parts = [tf.gather(levels[level], self.rows[level]) for level in self.levels]
        return tf.transpose(tf.concat(parts, axis=0))

    def set_totals(self, sum_signal):
        """Per weight set, the batch-summed signal of the sums using it, `[C]`."""
        return tf.math.unsorted_segment_sum(tf.reduce_sum(sum_signal, axis=0),
                                            self.column_of_output, self.num_columns)

    def to_columns(self, per_bucket):
        """`[count, n, sets]` tensors -> `[1, 1, I_max, C]`, NaN below a set's children."""
        columns = []
        for t, (count, n, sets) in zip(per_bucket, self.buckets):
            t = tf.reshape(tf.transpose(t, [0, 2, 1]), [count * sets, n])     # [count*sets, n]
            columns.append(tf.pad(t, [[0, 0], [0, self.max_children - n]],
                                  constant_values=float("nan")))
        return tf.transpose(tf.concat(columns, axis=0))[None, None]


class GraphStep(StepFunction):
    """The compiled training step of a `GraphModel` (see `trainer.CompiledStep`, same result:
    `{"ll": mean log p(x) before the update, "taps": {"S1": {...}}}`)."""

    def __init__(self, model, entries, optimizers, settings, num_vars, dtype):
        self._model, self._optimizers = model, optimizers
        wanted = None if settings.layers is None else set(settings.layers)
        self._points = [TapPoint(0, e.key, e.kind, e.layer) for e in entries
                        if settings.enabled and (wanted is None or e.key in wanted)]
        self._bins, self._values = settings.bins, settings.values
        self._layout = CountsLayout(model) if self._points else None
        self._compile(num_vars, dtype)

    def _step(self, x):
        model = self._model
        variables = model.trainable_variables
        with tf.GradientTape() as tape:
            leaves = model.leaf_log_values(x)                                 # [L0, B]
            tape.watch(leaves)
            root, levels = model.upward(leaves, keep_levels=True)             # [B]
            loss = -tf.reduce_mean(root)
        targets = list(variables) + ([leaves] + list(levels[1:]) if self._points else [])
        grads = tape.gradient(loss, targets, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        var_grads = {id(v): g for v, g in zip(variables, grads[:len(variables)])}
        result = {"ll": tf.reduce_mean(root)}
        if self._points:
            level_grads = [tf.convert_to_tensor(g) for g in grads[len(variables):]]
            result["taps"] = {p.key: self._tap(levels, level_grads, var_grads, tf.shape(x)[0])
                              for p in self._points}
        self._apply_updates(var_grads, x)
        return result

    def _tap(self, levels, level_grads, var_grads, batch_size):
        model, layout = self._model, self._layout
        h = layout.gather(levels)                                             # [B, R]
        dy = layout.gather(level_grads)                                       # [B, R]
        weight_signal = [var_grads.get(id(v)) for v in model.accumulators]
        weight_signal = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                         for v, g in zip(model.accumulators, weight_signal)]
        return raw_tap(h, self._bins, signal_stats(dy),
                       signal_stats(tf.transpose(level_grads[0])),
                       tf.concat([tf.reshape(g, [-1]) for g in weight_signal], 0),
                       self._counts(weight_signal, dy, batch_size), self._values)

    def _counts(self, weight_signal, dy, batch_size):
        """`-B g` with g the signal at the normalised log-weights (see `taps.selection_counts`:
        the gradient op's normalisation is undone with each set's total signal)."""
        model, layout = self._model, self._layout
        per_bucket = weight_signal
        if model.sum_op.chain_to_accumulators:
            totals = layout.set_totals(dy)                                    # [C]
            per_bucket, start = [], 0
            for g, acc, (count, n, sets) in zip(weight_signal, model.accumulators,
                                                layout.buckets):
                total = tf.reshape(totals[start:start + count * sets], [count, 1, sets])
                start += count * sets
                acc = tf.convert_to_tensor(acc)
                if model.logspace_accumulators:
                    per_bucket.append(g + tf.nn.softmax(acc, axis=-2) * total)
                else:
                    per_bucket.append(acc * (g + total / tf.reduce_sum(acc, axis=-2,
                                                                       keepdims=True)))
        counts = layout.to_columns(per_bucket)
        return -tf.cast(batch_size, counts.dtype) * counts


def graph_weight_columns(model):
    """The normalised weights of every weight set in the counts layout `[1, 1, I_max, C]`."""
    layout = CountsLayout(model)
    from spnlab.core.ops.logspace import normalize_weights
    w = [normalize_weights(tf.convert_to_tensor(v), model.logspace_accumulators)
         for v in model.accumulators]
    return layout.to_columns(w).numpy()


def per_node_values(model, array):
    """`{sum node name: float}` from a per-output array `[R]` (mean over a node's outputs) or
    a per-edge array `[1, 1, I_max, C]` (total over the node's weight sets; a set shared by
    several sums counts once per sum). Other shapes give `{}`."""
    layout = CountsLayout(model)
    out = {}
    for node, outputs in layout.outputs_of.items():
        if array.ndim == 1 and array.shape[0] == len(layout.column_of_output):
            value = float(np.mean(array[outputs]))
        elif array.ndim == 4 and array.shape[-1] == layout.num_columns:
            value = float(np.nansum(array[0, 0][:, layout.column_of_output[outputs]]))
        else:
            return {}
        if np.isfinite(value):
            out[node.name] = value
    return out


def per_node_edge_values(model, array):
    """`{sum node name: [num_sums, num_children]}` from a per-edge array `[1, 1, I_max, C]`
    (e.g. winner counts): each output's weight-set column, its first `num_children` rows.
    Other shapes give `{}`."""
    layout = CountsLayout(model)
    array = np.asarray(array, float)
    if array.ndim != 4 or array.shape[-1] != layout.num_columns:
        return {}
    out = {}
    for node, outputs in layout.outputs_of.items():
        columns = layout.column_of_output[outputs]
        out[node.name] = array[0, 0][:node.num_children, columns].T
    return out
