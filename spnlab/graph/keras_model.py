"""`GraphModel`: a node graph compiled into a Keras model that trains like the layer models.

The trainable variables are the sum weights and the continuous leaves' parameters; the forward pass
is `evaluate.upward` with the model's sum op, so `model.fit` / `train_on_batch` with the core's
`NegativeLogLikelihood` and `OnlineExpectationMaximization` (EM ops) or SGD/Adam (gradient op)
train a hand-built graph exactly as a layer model is trained. The model saves as `.keras`:
its config holds the node graph (`serialize.graph_to_config`), its variables the learned values.
"""
import keras
import numpy as np
import tensorflow as tf

from spnlab.core import config
from spnlab.core.layers.sum_layers import resolve_sum_op
from spnlab.core.ops.checks import step_after_check
from spnlab.core.ops.logspace import normalize_log_weights, normalize_weights
from spnlab.core.optimizers import set_count_normalization
from spnlab.graph.evaluate import upward
from spnlab.graph.leaf_params import LocationScaleParameters
from spnlab.graph.leaf_values import extend_columns, leaf_log_values
from spnlab.graph.plan import compile_plan
from spnlab.graph.serialize import graph_from_config, graph_to_config


def _check_bool_or_none(value, arg):
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"Expected `{arg}` to be None or a bool. Received: {arg}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="spnlab")
class GraphModel(keras.Model):
    """The compiled TF model of the SPN below `root`; output `[B, 1]` log-values.

    Sum weights: every `Weights` node of the graph is one slice `[num_children, num_sets]` of
    a variable stacking the Weights nodes of its shape, `[count, num_children, num_sets]`
    (children on axis -2, as the core's sum layers; tagged for the soft-EM per-sum
    normalisation of `OnlineExpectationMaximization`). Sums that share a Weights node read the
    same slice, so tied weights stay tied and receive the signals of all their sums.

    Args:
        root: the root node (one output).
        sum_op: a core sum op (default: `spnlab.core.get_default_sum_op()` now).
        variables: the data columns (see `plan.compile_plan`); the input is `x [B, C]` or,
            with the latent variables' columns, `[B, C + L]`, or a tuple `(x, evidence_mask)`.
        logspace_accumulators: None = the sum op's default (log space for the gradient op,
            linear for the EM ops).
        train_leaves: train the location-scale leaves' parameters. They train when their
            parameterisation fits the sum op (gradient parameters with the gradient op, EM
            statistics with the EM ops) and are frozen otherwise.
        leaf_accumulators: parameterise location-scale leaves by EM statistics (default: when
            the sum op needs linear accumulators, i.e. is an EM op).
        min_scale: smallest scale of EM-learned location-scale leaves.

    `set_sum_op` switches the op on the live model (the distribution does not change);
    `write_back` copies the learned weights and leaf parameters into the node graph.
    """

    def __init__(self, root, sum_op=None, variables=None, logspace_accumulators=None,
                 train_leaves=True, leaf_accumulators=None, min_scale=1e-3, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        # Not an attribute Keras tracks (it would copy the plan's dicts into tracked ones).
        object.__setattr__(self, "_plan", compile_plan(root, variables))
        self.sum_op = resolve_sum_op(sum_op)
        _check_bool_or_none(logspace_accumulators, "logspace_accumulators")
        _check_bool_or_none(leaf_accumulators, "leaf_accumulators")
        if not isinstance(train_leaves, bool):
            raise TypeError(f"Expected `train_leaves` to be a bool. "
                            f"Received: train_leaves={train_leaves!r}")
        self.logspace_accumulators = (self.sum_op.default_logspace_accumulators()
                                      if logspace_accumulators is None else logspace_accumulators)
        self.sum_op._check_accumulator_space(self.logspace_accumulators)
        self.train_leaves = train_leaves
        self.min_scale = float(min_scale)
        self.accumulators = [self._add_accumulators(shape, nodes)
                             for shape, nodes in self.plan.weights.buckets]
        self._tag_accumulators()
        em_leaves = (self.sum_op.needs_linear_accumulators if leaf_accumulators is None
                     else leaf_accumulators)
        self.leaf_params = LocationScaleParameters(
            self, self.plan.leaves.continuous_nodes, em_leaves,
            self._leaves_trainable(em_leaves), min_scale)
        self.built = True

    @property
    def plan(self):
        """The `plan.GraphPlan` this model evaluates."""
        return self._plan

    # -- saving ----------------------------------------------------------------------------------
    def get_config(self):
        """The node graph (with the data column order), the sum op and the options; the learned
        weights and leaf parameters are the model's variables (saved by Keras)."""
        return {"name": self.name, "graph": graph_to_config(self.plan.root,
                                                            self.plan.columns.data),
                "sum_op": keras.saving.serialize_keras_object(self.sum_op),
                "logspace_accumulators": self.logspace_accumulators,
                "train_leaves": self.train_leaves, "leaf_accumulators": self.leaf_params.em,
                "min_scale": self.min_scale}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        root, columns = graph_from_config(config.pop("graph"))
        return cls(root, variables=columns, **config)

    # -- variables ----------------------------------------------------------------------------
    def _constraint(self):
        return (config.get_default_logspace_accumulators_constraint() if self.logspace_accumulators
                else config.get_default_linear_accumulators_constraint())

    def _add_accumulators(self, shape, nodes):
        values = np.stack([w.values.T for w in nodes]).astype(np.float32)   # [count, n, sets]
        if self.logspace_accumulators:
            with np.errstate(divide="ignore"):
                values = np.log(values)
        n, sets = shape
        return self.add_weight(name=f"weights_{n}x{sets}", shape=values.shape,
                               initializer=lambda *_, **__: tf.constant(values),
                               constraint=self._constraint())

    def _tag_accumulators(self):
        for variable in self.accumulators:
            set_count_normalization(variable, self.sum_op.normalizes_counts)

    def _leaves_trainable(self, em_leaves):
        return self.train_leaves and em_leaves == self.sum_op.needs_linear_accumulators

    def flat_accumulators(self):
        """All accumulators as one flat tensor `[W]` (see `plan.WeightsLayout`)."""
        if not self.accumulators:
            return tf.zeros([0], tf.float32)
        return tf.concat([tf.reshape(tf.convert_to_tensor(v), [-1]) for v in self.accumulators],
                         axis=0)

    def weight_values(self, weights):
        """The normalised values `[num_sets, num_children]` of a `Weights` node (numpy)."""
        if weights not in self.plan.weights.slot:
            raise ValueError(f"Expected a Weights node of the graph. Received: weights={weights!r}")
        k, pos = self.plan.weights.slot[weights]
        w = normalize_weights(tf.convert_to_tensor(self.accumulators[k]),
                              self.logspace_accumulators)                # [count, n, sets]
        return w[pos].numpy().T

    # -- forward --------------------------------------------------------------------------------
    def leaf_log_values(self, x, evidence_mask=None, marginalize="sum"):
        """Level 0 `[L0, B]` for data `x [B, C]` or `[B, C + L]` (see `leaf_values.py`)."""
        x, mask = extend_columns(self.plan.columns, x, evidence_mask)
        return leaf_log_values(self.plan.leaves, self.leaf_params, x, mask, marginalize)

    def upward(self, leaf_values, sum_op="model", keep_levels=False):
        """Root log-values `[B]` from level 0 with `sum_op`: "model" (the model's op), another
        core sum op, or None (forward values only, faster; see `evaluate.upward`)."""
        sum_op = self.sum_op if isinstance(sum_op, str) and sum_op == "model" else sum_op
        return upward(self.plan, leaf_values, self.flat_accumulators(),
                      self.logspace_accumulators, sum_op, keep_levels)

    def call(self, inputs, training=None):
        x, mask = inputs if isinstance(inputs, (tuple, list)) else (inputs, None)
        return self.upward(self.leaf_log_values(x, mask))[:, None]       # [B, 1]

    # -- training ------------------------------------------------------------------------------
    def train_step(self, data):
        return step_after_check(super().train_step, self._check_x, data)

    def test_step(self, data):
        return step_after_check(super().test_step, self._check_x, data)

    def _check_x(self, x):
        """`x` after the data checks (in a traced step every op of the step waits for them)."""
        if tf.executing_eagerly():
            return x
        checked, _ = extend_columns(self.plan.columns, x)
        with tf.control_dependencies([checked]):
            return tf.identity(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # Unsupervised: the core losses ignore y_true, so train on `x` alone.
        if y is None:
            y = tf.stop_gradient(y_pred)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                    training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if y is None:
            y = tf.stop_gradient(y_pred)
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def set_sum_op(self, sum_op):
        """Switch the sum op of every sum; the distribution does not change.

        Accumulators are converted when the new op keeps them in the other space (normalised
        weights unchanged); location-scale leaves train only under an op that fits their
        parameterisation. The compiled train/test functions are dropped; compile again with an
        optimiser fit for the op (`OnlineExpectationMaximization` for the EM ops).
        """
        sum_op = resolve_sum_op(sum_op)
        logspace = sum_op.default_logspace_accumulators()
        if logspace != self.logspace_accumulators:
            for variable in self.accumulators:
                log_w = normalize_log_weights(tf.convert_to_tensor(variable),
                                              self.logspace_accumulators)
                variable.assign(log_w if logspace else tf.exp(log_w))
        self.sum_op, self.logspace_accumulators = sum_op, logspace
        for variable in self.accumulators:
            variable.constraint = self._constraint()
        self._tag_accumulators()
        self.leaf_params.set_trainable(self._leaves_trainable(self.leaf_params.em))
        self.train_function = self.test_function = self.predict_function = None
        return self

    def write_back(self):
        """Copy the learned weights into the graph's `Weights` nodes and the location-scale
        leaves' location and scale into their leaf nodes (so `to_dot` shows them)."""
        for variable, (_, nodes) in zip(self.accumulators, self.plan.weights.buckets):
            w = normalize_weights(tf.convert_to_tensor(variable), self.logspace_accumulators)
            w = w.numpy().astype(np.float64)                                 # [count, n, sets]
            for pos, node in enumerate(nodes):
                node.assign(w[pos].T)
        if self.leaf_params.nodes:
            self.leaf_params.write_back()
        return self.plan.root
