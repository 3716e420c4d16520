"""The model a session trains, behind one small interface with two implementations.

`trainable(model)` wraps a layer model (`SequentialSumProductNetwork`, a RAT-SPN, a DGC-SPN:
`LayerTrainable`) or a node graph (`GraphModel`: `GraphTrainable`); it is the only place in
the lab that asks which kind a model is. Each implementation fits the session's data to the
model, answers the queries on rows `[B, V]` (numpy in, numpy out), names its layers for the
per-layer sum ops, and gives the compiled training step's class and the node-level graph.
"""
from typing import NamedTuple, Optional

import numpy as np

import spnlab.core as spnk
from spnlab.core.layers.discrete_leaves import IndicatorLeaf
from spnlab.core.queries.runner import data_shape, is_spatial, num_variables
from spnlab.lab.build import LayerEntry, layer_entries
from spnlab.lab.graph_model import GraphStep, graph_weight_columns, is_graph_model, per_node_values
from spnlab.lab.trainer import CompiledStep


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


def trainable(model):
    """The `Trainable` of `model` (a layer SPN or a `GraphModel`)."""
    if is_graph_model(model):
        return GraphTrainable(model)
    if hasattr(model, "layers") and hasattr(model, "sum_layers"):
        return LayerTrainable(model)
    raise TypeError("Expected `model` to be a layer SPN such as SequentialSumProductNetwork, "
                    f"a GraphModel or a root node. Received: model={model!r}")


class Trainable:
    """What the lab needs of a model. Attributes: `model` (the Keras model), `entries` (its
    leaf / product / sum layers with keys "leaf", "P1", "S1", ...), `image_input` (the image
    shape a spatial model reads, else None) and `step_class` (the compiled training step)."""

    step_class = CompiledStep
    image_input = None

    def __init__(self, model):
        self.model = model
        self.entries = self._entries()

    def _entries(self):
        return layer_entries(self.model)

    @property
    def sum_layers(self):
        """The layers that hold a sum op (`sum_op`, `set_sum_op`), in model order."""
        return tuple(e.layer for e in self.entries if e.kind == "sum")

    def fit_data(self, data):
        """Check that `data` (a `DataSet`) fits the model; cast its rows to the input dtype."""
        raise NotImplementedError

    def log_likelihood(self, x, mask=None):
        raise NotImplementedError

    def marginals(self, x, mask):
        raise NotImplementedError

    def complete(self, x, mask, method, seed):
        raise NotImplementedError

    def sample(self, num_samples, seed):
        raise NotImplementedError

    def weights(self, entry):
        """Normalised weights of a sum layer `[S, D, I, O]` (node graphs: per column)."""
        raise NotImplementedError

    def graph(self, signal, layer_signal, step):
        """`GraphSnapshot` with `signal` per layer, read by `layer_signal(key, signal)`."""
        raise NotImplementedError

    def induced_tree(self, x, mask, method):
        """The induced tree of one row on the graph `graph()` draws (same node names)."""
        raise NotImplementedError


class LayerTrainable(Trainable):
    """A layer model; a spatial one (DGC-SPN) reads the session's flat rows as images."""

    def __init__(self, model):
        super().__init__(model)
        self.image_input = tuple(data_shape(model)) if is_spatial(model) else None

    def fit_data(self, data):
        n_vars = num_variables(self.model)
        if n_vars is not None and n_vars != data.num_vars:
            raise ValueError(f"Expected data with {n_vars} variables for this model. "
                             f"Received: {data.num_vars} variables")
        dtype = self._input_dtype(data)
        if np.issubdtype(dtype, np.integer) and not data.discrete:
            raise ValueError("Expected integer data for this model (its input is "
                             f"{dtype.name}). Received non-integer values of dtype "
                             f"{data.train.dtype.name}")
        data.train, data.test = data.train.astype(dtype), data.test.astype(dtype)
        leaf = next((e.layer for e in self.entries if e.kind == "leaf"), None)
        if isinstance(leaf, IndicatorLeaf):
            for name, rows in (("train", data.train), ("test", data.test)):
                if rows.size and (rows.min() < 0 or rows.max() >= leaf.num_components):
                    raise ValueError(f"Expected {name} data values in [0, {leaf.num_components}) "
                                     f"for the IndicatorLeaf. Received values in "
                                     f"[{rows.min()}, {rows.max()}]")

    def _input_dtype(self, data):
        try:
            return np.dtype(str(self.model.inputs[0].dtype).replace("tf.", ""))
        except (AttributeError, IndexError, TypeError, ValueError):
            return data.train.dtype

    def to_model(self, rows):
        """Rows `[B, V]` (data or masks) in the model's input shape (images for DGC-SPNs)."""
        if rows is None or self.image_input is None:
            return rows
        return np.reshape(rows, (len(rows),) + self.image_input)

    def to_rows(self, out, per_variable=False):
        """A query's image-shaped result back to rows `[B, V]` (`[B, V, C]` per variable)."""
        if self.image_input is None:
            return out
        return np.reshape(out, (len(out), -1) + ((out.shape[-1],) if per_variable else ()))

    def log_likelihood(self, x, mask=None):
        if mask is None:
            return spnk.log_likelihood(self.model, self.to_model(x))
        return spnk.marginal(self.model, self.to_model(x), self.to_model(mask))

    def marginals(self, x, mask):
        return self.to_rows(spnk.variable_marginals(self.model, self.to_model(x),
                                                    self.to_model(mask)), per_variable=True)

    def complete(self, x, mask, method, seed):
        xm, mm = self.to_model(x), self.to_model(mask)
        if method in ("mpe", "hard_em"):
            out = spnk.mpe(self.model, xm, mm, seed=seed,
                           method="max_product" if method == "mpe" else "hard_em")
        elif method == "mean":
            out = spnk.posterior_mean(self.model, xm, mm)
        else:
            out = spnk.sample(self.model, x=xm, evidence_mask=mm, seed=seed)
        return self.to_rows(np.asarray(out))

    def sample(self, num_samples, seed):
        return self.to_rows(np.asarray(spnk.sample(self.model, num_samples, seed=seed)))

    def weights(self, entry):
        return np.exp(entry.layer.log_weights().numpy())

    def graph(self, signal, layer_signal, step):
        from spnlab.graph import from_layer_model
        graph = from_layer_model(self.model)
        values = {}
        if signal is not None:
            for entry in self.entries:
                value = layer_signal(entry.key, signal)
                if value is not None:
                    values[entry.key] = value
        names = {entry.key: entry.layer.name for entry in self.entries}
        return GraphSnapshot(graph, signal, values, names, step)

    def induced_tree(self, x, mask, method):
        from spnlab.graph import from_layer_model
        from spnlab.graph.induced import induced_tree
        graph = from_layer_model(self.model)
        return induced_tree(graph.root, x, mask, method, variables=graph.variables)


class GraphTrainable(Trainable):
    """A node graph: one sum layer "S1" (one sum op drives all its sums)."""

    step_class = GraphStep

    def _entries(self):
        return [LayerEntry("S1", self.model, "sum", 0)]

    @property
    def columns(self):
        return self.model.plan.columns.data

    def fit_data(self, data):
        """Data columns = the graph's variables; discrete ones hold their values."""
        columns = self.columns
        if len(columns) != data.num_vars:
            raise ValueError(f"Expected data with {len(columns)} variables for this graph "
                             f"({', '.join(v.name for v in columns)}). Received: "
                             f"{data.num_vars} variables")
        for name, rows in (("train", data.train), ("test", data.test)):
            for c, var in enumerate(columns):
                if var.num_vals is None or not len(rows):
                    continue
                col = rows[:, c]
                if np.any(col != np.round(col)) or col.min() < 0 or col.max() >= var.num_vals:
                    raise ValueError(f"Expected {name} data of variable {var.name!r} (column {c})"
                                     f" to be integers in [0, {var.num_vals}). Received values in"
                                     f" [{col.min()}, {col.max()}]")
        dtype = np.int32 if all(v.num_vals is not None for v in columns) else np.float32
        data.train, data.test = data.train.astype(dtype), data.test.astype(dtype)

    @staticmethod
    def _queries():
        from spnlab.graph import queries
        return queries

    def log_likelihood(self, x, mask=None):
        return self._queries().log_value(self.model, x, mask)

    def marginals(self, x, mask):
        """`[B, V, C]` posteriors of the data columns (C the most values of any; zero-padded)."""
        columns = self.columns
        if any(v.num_vals is None for v in columns):
            raise ValueError("Expected discrete variables for per-variable marginals. Received "
                             "a graph with continuous variables "
                             f"({', '.join(v.name for v in columns if v.num_vals is None)})")
        found = self._queries().variable_marginals(self.model, x, mask)
        width = max(v.num_vals for v in columns)
        out = np.zeros((x.shape[0], len(columns), width))
        for c, var in enumerate(columns):
            out[:, c, :var.num_vals] = found[var]
        return out

    def complete(self, x, mask, method, seed):
        q = self._queries()
        if method in ("mpe", "hard_em"):
            out = q.mpe(self.model, x, mask, seed=seed,
                        method="max_product" if method == "mpe" else "hard_em").x
        elif method == "mean":
            out = q.posterior_mean(self.model, x, mask)
        else:
            out = q.sample(self.model, x=x, evidence_mask=mask, seed=seed)
        return out[:, :len(self.columns)]

    def sample(self, num_samples, seed):
        return self._queries().sample(self.model, num_samples, seed=seed)[:, :len(self.columns)]

    def weights(self, entry):
        return graph_weight_columns(self.model)

    def graph(self, signal, layer_signal, step):
        """The model's own node graph; the signal per sum node from the `S1` tap (mean over a
        ParallelSums node's outputs; edge signals summed over the node's weight sets)."""
        from spnlab.graph.from_layers import LayerGraph
        model = self.model
        model.write_back()                          # the drawing shows the learned weights
        graph = LayerGraph(model.plan.root, model.plan.columns.data)
        values = None
        if signal is not None:
            array = layer_signal("S1", signal)
            values = {} if array is None else per_node_values(model, np.asarray(array, float))
        return GraphSnapshot(graph, signal, {}, {"S1": model.name}, step, values)

    def induced_tree(self, x, mask, method):
        from spnlab.graph.induced import induced_tree
        self.model.write_back()                     # the tree picks by the learned weights
        return induced_tree(self.model, x, mask, method)
