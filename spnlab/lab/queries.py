"""Queries a view asks of a session: marginals, completions, samples, node signals, the graph.

A mixin of `Session`; every method delegates the inference to `spnlab.core.queries` (layer
models) or `spnlab.graph` (node-graph models) and never changes the session's state. Views ask
the same model again after every step, so the layer queries run compiled
(`spnlab.core.queries.runner.compiled_queries`: the same results, ~10x faster after the first).
"""
import numpy as np

from spnlab.core.queries.runner import compiled_queries
from spnlab.lab.masks import evidence_mask as _evidence_mask

COMPLETION_METHODS = ("mpe", "hard_em", "mean", "sample")
NODE_SIGNALS = ("forward", "signal", "counts", "weight_signal", "weights")


def query_rows(session):
    """The rows the views query: the test rows, or the training rows when there are none."""
    return session.data.test if len(session.data.test) else session.data.train


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
            out = self._trainable.log_likelihood(x, mask)
        return out[0] if one else out

    def _model_log_likelihood(self, x):
        # Eager unless the caller compiles queries: a switch checks the LL with the old and the
        # new ops once each, which tracing would only slow down.
        return self._trainable.log_likelihood(x)

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
            out = self._trainable.marginals(x, mask)
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
            out = self._trainable.complete(x, mask, method, seed)
        return out[0] if one else out

    def sample(self, num_samples, seed=None):
        """Ancestral samples `[num_samples, V]`."""
        with self._busy("sample", query=True), compiled_queries():
            return self._trainable.sample(num_samples, seed)

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
            return self._trainable.weights(entry)
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
        with self._busy("graph", query=True):
            return self._trainable.graph(signal, self.node_signal, self.step_count)

    def induced_tree(self, x, evidence_mask=None, method="max_product"):
        """The induced tree of one row on the node graph that `graph()` draws (its node names
        are the drawing's): what MPE ("max_product") or a hard-EM step ("hard_em",
        "unweighted_hard_em") selects for it. See `spnlab.graph.induced_tree`.

        Args:
            x: one row `[num_vars]`; evidence_mask: `[num_vars]` bool (None: all observed).
        """
        x, _ = _rows(x, "x")
        if x.shape != (1, self.data.num_vars):
            raise ValueError(f"Expected one row `x` of {self.data.num_vars} values. Received "
                             f"shape {x.shape}")
        with self._busy("induced tree", query=True):
            return self._trainable.induced_tree(x, evidence_mask, method)
