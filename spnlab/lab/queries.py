"""Queries a view asks of a session: marginals, completions, samples, node signals, the graph.

A mixin of `Session`; every method delegates the inference to `spnlab.core.queries` (layer
models) or `spnlab.graph` (node-graph models) and never changes the session's state. Views ask
the same model again after every step, so the layer queries run compiled
(`spnlab.core.queries.runner.compiled_queries`: the same results, ~10x faster after the first).
"""
from typing import NamedTuple, Optional

import numpy as np

import spnlab.core as spnk
from spnlab.core.queries.runner import compiled_queries
from spnlab.lab.graph_model import graph_weight_columns, is_graph_model, per_node_values
from spnlab.lab.masks import evidence_mask as _evidence_mask

COMPLETION_METHODS = ("mpe", "hard_em", "mean", "sample")
NODE_SIGNALS = ("forward", "signal", "counts", "weight_signal", "weights")


class GraphSnapshot(NamedTuple):
    """The node-level graph of the model with one signal per layer to colour its nodes.

    Attributes:
        graph: what `spnlab.graph.from_layer_model(model)` returns.
        signal: the signal's name, or None.
        layer_values: `{layer key: array}` of that signal from the latest taps (see
            `Session.node_signal`); layers without it are left out.
        layer_names: `{layer key: Keras layer name}`; the graph's nodes are named after the
            Keras layer and region (`dense_sum[s,d]`), so a view can find each node's value.
        step: the step the values belong to.
    """

    graph: object
    signal: Optional[str]
    layer_values: dict
    layer_names: dict
    step: int
    node_values: Optional[dict] = None   # {node name: float}, given directly for node graphs


def _rows(x, arg_name):
    """`(x as 2-D, was_1d)`."""
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x)
    if x.ndim == 1:
        return x[None], True
    if x.ndim != 2:
        raise ValueError(f"Expected `{arg_name}` of shape [num_vars] or [batch, num_vars]. "
                         f"Received: {arg_name}.shape={x.shape}")
    return x, False


class QueryMixin:
    """Inference on the current model (see `Session`)."""

    def log_likelihood(self, x, evidence_mask=None):
        """log p(x) per row `[B]` (numpy); with `evidence_mask` (True = observed) the marginal
        log p(x_E), the unobserved variables summed out."""
        x, one = _rows(x, "x")
        mask = None if evidence_mask is None else _rows(evidence_mask, "evidence_mask")[0]
        with self._busy("log_likelihood", query=True), compiled_queries():
            if mask is None:
                out = self._model_log_likelihood(x)
            elif is_graph_model(self.model):
                out = graph_queries().log_value(self.model, x, mask)
            else:
                out = spnk.marginal(self.model, self._to_model(x), self._to_model(mask))
        return out[0] if one else out

    def _model_log_likelihood(self, x):
        # Eager unless the caller compiles queries: a switch checks the LL with the old and the
        # new ops once each, which tracing would only slow down.
        if is_graph_model(self.model):
            return graph_queries().log_value(self.model, x)
        return spnk.log_likelihood(self.model, self._to_model(x))

    def _to_model(self, rows):
        """Rows `[B, V]` (data or masks) in the model's input shape (images for DGC-SPNs)."""
        if rows is None or self._image_input is None:
            return rows
        return np.reshape(rows, (len(rows),) + self._image_input)

    def _to_rows(self, out, per_variable=False):
        """A layer query's image-shaped result back to rows `[B, V]` (`[B, V, C]` with
        `per_variable` values)."""
        if self._image_input is None:
            return out
        return np.reshape(out, (len(out), -1) + ((out.shape[-1],) if per_variable else ()))

    def evaluate(self, split="test"):
        """Mean log-likelihood (nats per sample) of the "train" or "test" rows; None if empty."""
        if split not in ("train", "test"):
            raise ValueError(f"Expected `split` in ('train', 'test'). Received: split={split!r}")
        rows = self.data.train if split == "train" else self.data.test
        if len(rows) == 0:
            return None
        with self._busy("evaluate", query=True):
            return float(np.mean(self._evaluator(rows)))

    def marginals(self, x, evidence_mask=None):
        """Per-variable posteriors given the evidence, `[B, V, C]` (`[V, C]` for one row).

        Args:
            x: data `[B, V]` or one row `[V]`; unobserved entries are ignored.
            evidence_mask: bool like `x`, True = observed; None means nothing observed.
        """
        x, one = _rows(x, "x")
        mask = np.zeros(x.shape, bool) if evidence_mask is None else _rows(evidence_mask,
                                                                           "evidence_mask")[0]
        with self._busy("marginals", query=True), compiled_queries():
            if is_graph_model(self.model):
                out = _graph_marginals(self.model, x, mask)
            else:
                out = self._to_rows(spnk.variable_marginals(self.model, self._to_model(x),
                                                            self._to_model(mask)),
                                    per_variable=True)
        return out[0] if one else out

    def complete(self, x, evidence_mask, method="mpe", seed=None):
        """Fill the unobserved entries of `x`; observed ones are kept.

        Args:
            method: "mpe" (max-product MPE), "hard_em" (LibSPN-Keras' hard-EM completion),
                "mean" (posterior mean) or "sample" (a draw from p(unobserved | observed)).
            seed: for tie-breaking and sampling.
        """
        if method not in COMPLETION_METHODS:
            raise ValueError(f"Expected `method` in {COMPLETION_METHODS}. "
                             f"Received: method={method!r}")
        x, one = _rows(x, "x")
        mask, _ = _rows(evidence_mask, "evidence_mask")
        with self._busy("complete", query=True), compiled_queries():
            if is_graph_model(self.model):
                out = _graph_complete(self.model, x, mask, method, seed)
            else:
                xm, mm = self._to_model(x), self._to_model(mask)
                if method in ("mpe", "hard_em"):
                    out = spnk.mpe(self.model, xm, mm, seed=seed,
                                   method="max_product" if method == "mpe" else "hard_em")
                elif method == "mean":
                    out = spnk.posterior_mean(self.model, xm, mm)
                else:
                    out = spnk.sample(self.model, x=xm, evidence_mask=mm, seed=seed)
                out = self._to_rows(np.asarray(out))
        return out[0] if one else out

    def sample(self, num_samples, seed=None):
        """Ancestral samples `[num_samples, V]`."""
        with self._busy("sample", query=True), compiled_queries():
            if is_graph_model(self.model):
                columns = len(self.model.plan.columns.data)
                return graph_queries().sample(self.model, num_samples, seed=seed)[:, :columns]
            return self._to_rows(np.asarray(spnk.sample(self.model, num_samples, seed=seed)))

    def evidence_mask(self, kind, num_rows=1, hidden_fraction=0.5, seed=0):
        """A named evidence mask for this session's data (see `spnlab.lab.masks`)."""
        return _evidence_mask(kind, num_rows, self.data.num_vars, self.data.image_shape,
                              hidden_fraction, seed)

    def node_signal(self, key, signal):
        """One layer's values per node (or per edge) for colouring a graph.

        Args:
            key: a layer key ("leaf", "S1", ...).
            signal: "forward" (mean output log-value per node over the last batch), "signal"
                (the signal each node received, summed over the batch), "counts" (child
                selections per edge `[S, D, I, O]`), "weight_signal" (what the optimiser got) or
                "weights" (current normalised weights `[S, D, I, O]`, not a tap).

        Returns:
            a numpy array, or None when the latest taps do not hold it.
        """
        if signal not in NODE_SIGNALS:
            raise ValueError(f"Expected `signal` in {NODE_SIGNALS}. Received: signal={signal!r}")
        entry = self._entry(key)
        if signal == "weights":
            if entry.kind != "sum":
                return None
            if is_graph_model(self.model):
                return graph_weight_columns(self.model)
            return np.exp(entry.layer.log_weights().numpy())
        record = self.taps.latest()
        tap = None if record is None else record.layers.get(key)
        if tap is None:
            return None
        if signal == "forward":
            return tap.forward.get("node_mean")
        if signal == "signal":
            return None if tap.signal_out is None else tap.signal_out.get("node_sum")
        return getattr(tap, signal)

    def graph(self, signal=None):
        """The node-level graph (`spnlab.graph.from_layer_model`) with a chosen signal per layer.

        Raises:
            RuntimeError: when `spnlab.graph.from_layer_model` is not available.
        """
        if signal is not None and signal not in NODE_SIGNALS:
            raise ValueError(f"Expected `signal` in {NODE_SIGNALS} or None. "
                             f"Received: signal={signal!r}")
        if is_graph_model(self.model):
            return self._graph_of_graph_model(signal)
        try:
            from spnlab.graph import from_layer_model
        except ImportError as error:
            raise RuntimeError("The node-level graph of a layer model needs "
                               "`spnlab.graph.from_layer_model`, which this installation does not "
                               "provide yet. Layer signals are available with "
                               "`session.node_signal(key, signal)`.") from error
        with self._busy("graph", query=True):
            graph = from_layer_model(self.model)
        values = {}
        if signal is not None:
            for entry in self._entries:
                value = self.node_signal(entry.key, signal)
                if value is not None:
                    values[entry.key] = value
        names = {entry.key: entry.layer.name for entry in self._entries}
        return GraphSnapshot(graph, signal, values, names, self.step_count)

    def induced_tree(self, x, evidence_mask=None, method="max_product"):
        """The induced tree of one row on the node graph that `graph()` draws (its node names
        are the drawing's): what MPE ("max_product") or a hard-EM step ("hard_em",
        "unweighted_hard_em") selects for it. See `spnlab.graph.induced_tree`.

        Args:
            x: one row `[num_vars]`; evidence_mask: `[num_vars]` bool (None: all observed).
        """
        from spnlab.graph.induced import induced_tree
        x, _ = _rows(x, "x")
        if x.shape != (1, self.data.num_vars):
            raise ValueError(f"Expected one row `x` of {self.data.num_vars} values. Received "
                             f"shape {x.shape}")
        if is_graph_model(self.model):
            with self._busy("induced tree", query=True):
                self.model.write_back()          # the tree picks by the learned weights
                return induced_tree(self.model, x, evidence_mask, method)
        graph = self.graph(None).graph
        with self._busy("induced tree", query=True):
            return induced_tree(graph.root, x, evidence_mask, method, variables=graph.variables)

    def _graph_of_graph_model(self, signal):
        """The model's own node graph; the signal per sum node from the `S1` tap (mean over a
        ParallelSums node's outputs; edge signals summed over the node's weight sets)."""
        from spnlab.graph.from_layers import LayerGraph
        model = self.model
        with self._busy("graph", query=True):
            model.write_back()              # the drawing shows the learned weights
        graph = LayerGraph(model.plan.root, model.plan.columns.data)
        values = None
        if signal is not None:
            array = self.node_signal("S1", signal)
            values = {} if array is None else per_node_values(model, np.asarray(array, float))
        return GraphSnapshot(graph, signal, {}, {"S1": model.name}, self.step_count, values)


def graph_queries():
    from spnlab.graph import queries
    return queries


def _graph_marginals(model, x, mask):
    """`[B, V, C]` posteriors of the data columns (C the most values of any; zero-padded)."""
    columns = model.plan.columns.data
    if any(v.num_vals is None for v in columns):
        raise ValueError("Expected discrete variables for per-variable marginals. Received a "
                         "graph with continuous variables "
                         f"({', '.join(v.name for v in columns if v.num_vals is None)})")
    found = graph_queries().variable_marginals(model, x, mask)
    width = max(v.num_vals for v in columns)
    out = np.zeros((x.shape[0], len(columns), width))
    for c, var in enumerate(columns):
        out[:, c, :var.num_vals] = found[var]
    return out


def _graph_complete(model, x, mask, method, seed):
    q, columns = graph_queries(), len(model.plan.columns.data)
    if method in ("mpe", "hard_em"):
        out = q.mpe(model, x, mask, seed=seed,
                    method="max_product" if method == "mpe" else "hard_em").x
    elif method == "mean":
        out = q.posterior_mean(model, x, mask)
    else:
        out = q.sample(model, x=x, evidence_mask=mask, seed=seed)
    return out[:, :columns]
