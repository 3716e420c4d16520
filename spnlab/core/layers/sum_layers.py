"""DenseSum and RootSum: many sums per layer, one weight tensor, a swappable sum op."""
import keras
import tensorflow as tf

from spnlab.core import config, initializers
from spnlab.core.layers.shapes import check_region_shape
from spnlab.core.ops.logspace import normalize_log_weights
from spnlab.core.optimizers import set_count_normalization
from spnlab.core.sum_ops.base import SumOpBase

register = keras.saving.register_keras_serializable(package="spnlab")


def resolve_sum_op(sum_op):
    """`sum_op` as a core sum op: None is the process default, a dict a serialised op."""
    if sum_op is None:
        return config.get_default_sum_op()
    if isinstance(sum_op, dict):
        sum_op = keras.saving.deserialize_keras_object(sum_op)
    if not isinstance(sum_op, SumOpBase):
        raise TypeError(f"Expected `sum_op` to be a sum op such as SumOpEMBackprop(). "
                        f"Received: sum_op={sum_op!r}")
    return sum_op


def check_num_sums(num_sums):
    """`num_sums` if it is a positive int, else a ValueError naming it."""
    if isinstance(num_sums, bool) or not isinstance(num_sums, int) or num_sums < 1:
        raise ValueError(f"Expected `num_sums` to be a positive int. Received: num_sums={num_sums!r}")
    return num_sums


class SumLayerBase(keras.layers.Layer):
    """Accumulator bookkeeping shared by the sum layers.

    Accumulators are unnormalised weights `[scopes, decomps, num_in, num_out]`, linear or in log
    space. The forward pass always normalises them (so the layer is a valid mixture whatever
    constraint is used), and the sum op decides the backward pass. `set_sum_op` swaps the op on
    a live layer, converting the accumulators between log and linear space without changing the
    normalised weights.
    """

    def __init__(self, logspace_accumulators=None, accumulator_initializer=None, sum_op=None,
                 accumulator_regularizer=None, logspace_accumulator_constraint=None,
                 linear_accumulator_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.sum_op = resolve_sum_op(sum_op)
        if logspace_accumulators is not None and not isinstance(logspace_accumulators, bool):
            raise TypeError("Expected `logspace_accumulators` to be None or a bool. "
                            f"Received: logspace_accumulators={logspace_accumulators!r}")
        self._logspace_arg = logspace_accumulators
        self.logspace_accumulators = (self.sum_op.default_logspace_accumulators()
                                      if logspace_accumulators is None else logspace_accumulators)
        self.sum_op._check_accumulator_space(self.logspace_accumulators)
        self.accumulator_initializer = initializers.get(
            accumulator_initializer or config.get_default_accumulator_initializer())
        self.accumulator_regularizer = keras.regularizers.get(accumulator_regularizer)
        self.logspace_accumulator_constraint = keras.constraints.get(
            logspace_accumulator_constraint or config.get_default_logspace_accumulators_constraint())
        self.linear_accumulator_constraint = keras.constraints.get(
            linear_accumulator_constraint or config.get_default_linear_accumulators_constraint())

    def _current_constraint(self):
        return (self.logspace_accumulator_constraint if self.logspace_accumulators
                else self.linear_accumulator_constraint)

    def _add_accumulators(self, shape):
        init = self.accumulator_initializer
        if self.logspace_accumulators:
            def init(shape, dtype=None, _inner=self.accumulator_initializer):
                return tf.math.log(tf.convert_to_tensor(_inner(shape, dtype=dtype)))
        self.accumulators = self.add_weight(
            name="sum_weights", shape=shape, initializer=init,
            regularizer=self.accumulator_regularizer, constraint=self._current_constraint())
        if self._current_constraint() is not None:
            self.accumulators.assign(self._current_constraint()(self.accumulators))
        self._tag_accumulators()

    def _tag_accumulators(self):
        set_count_normalization(self.accumulators, self.sum_op.normalizes_counts)

    def log_weights(self):
        """Normalised log-weights `[scopes, decomps, num_in, num_out]`."""
        return normalize_log_weights(tf.convert_to_tensor(self.accumulators),
                                     self.logspace_accumulators)

    def set_sum_op(self, sum_op):
        """Replace the sum op; converts accumulators if the new op keeps them in another space.

        The normalised weights, and so the distribution, are unchanged by the switch.
        A compiled training function must be rebuilt afterwards (the model-level
        `set_sum_op` does that).
        """
        sum_op = resolve_sum_op(sum_op)
        logspace = sum_op.default_logspace_accumulators()
        if self.built and logspace != self.logspace_accumulators:
            # In float64: a float32 exp(log_softmax) moves a model's log-likelihood by ~1e-6.
            acc = tf.cast(tf.convert_to_tensor(self.accumulators), tf.float64)
            log_w = normalize_log_weights(acc, self.logspace_accumulators)
            new = log_w if logspace else tf.exp(log_w)
            self.accumulators.assign(tf.cast(new, self.accumulators.dtype))
        self.sum_op = sum_op
        self.logspace_accumulators = logspace
        self._logspace_arg = None
        if self.built:
            self.accumulators.constraint = self._current_constraint()
            self._tag_accumulators()

    def get_config(self):
        return {
            **super().get_config(),
            "logspace_accumulators": self._logspace_arg,
            "accumulator_initializer": keras.initializers.serialize(self.accumulator_initializer),
            "sum_op": keras.saving.serialize_keras_object(self.sum_op),
            "accumulator_regularizer": keras.regularizers.serialize(self.accumulator_regularizer),
            "logspace_accumulator_constraint":
                keras.constraints.serialize(self.logspace_accumulator_constraint),
            "linear_accumulator_constraint":
                keras.constraints.serialize(self.linear_accumulator_constraint),
        }


class SumsPerPosition(SumLayerBase):
    """A sum layer with `num_sums` sums at every position of its input (region or pixel); the
    first argument, as in LibSPN-Keras. Shared by `DenseSum` and the spatial sums."""

    def __init__(self, num_sums, logspace_accumulators=None, accumulator_initializer=None,
                 sum_op=None, accumulator_regularizer=None, logspace_accumulator_constraint=None,
                 linear_accumulator_constraint=None, **kwargs):
        super().__init__(logspace_accumulators, accumulator_initializer, sum_op,
                         accumulator_regularizer, logspace_accumulator_constraint,
                         linear_accumulator_constraint, **kwargs)
        self.num_sums = check_num_sums(num_sums)

    def get_config(self):
        return {**super().get_config(), "num_sums": self.num_sums}


@register
class DenseSum(SumsPerPosition):
    """`num_sums` sums in every (scope, decomp), each over all nodes of that region.

    Input `[B, S, D, N_in]` -> output `[B, S, D, num_sums]`; accumulators
    `[S, D, N_in, num_sums]` normalised over axis -2:
    `y[b,s,d,j] = log sum_i exp(x[b,s,d,i] + log w[s,d,i,j])`.

    Args:
        num_sums: sums per region.
        logspace_accumulators: None uses the sum op's default (log space for the gradient op,
            linear for the EM ops).
        accumulator_initializer: default `config.get_default_accumulator_initializer()`.
        sum_op: the backward pass (default `get_default_sum_op()` at construction).
        accumulator_regularizer, logspace_accumulator_constraint, linear_accumulator_constraint:
            as in Keras; constraints default to `LogNormalized` / `GreaterEqualEpsilonNormalized`.
    """

    def build(self, input_shape):
        check_region_shape(self, input_shape)
        _, scopes, decomps, nodes = input_shape
        self._add_accumulators([scopes, decomps, nodes, self.num_sums])

    def call(self, x):
        return self.sum_op.weighted_sum(x, tf.convert_to_tensor(self.accumulators),
                                        self.logspace_accumulators)

    def call_on_product(self, x, num_factors):
        """This layer applied to `DenseProduct(num_factors)(x)` without forming the product.

        Args:
            x: the product layer's input `[B, S * num_factors, D, N]`.

        Returns:
            `[B, S, D, num_sums]`, equal to `self(DenseProduct(num_factors)(x))`.
        """
        return self.sum_op.weighted_product_sum(x, num_factors,
                                                tf.convert_to_tensor(self.accumulators),
                                                self.logspace_accumulators)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_sums,)


@register
class RootSum(SumLayerBase):
    """The root: one sum over every node of every decomposition of the single remaining scope.

    Input `[B, 1, D, N]`; accumulators `[1, 1, D*N, 1]` (decomps merged into children).
    Output `[B, 1]` log-likelihoods, or with `return_weighted_child_logits=True` the weighted
    child log-values `[B, D*N]` = log p(x, child) (class logits for classification; the NLL
    loss log-sum-exps them).
    """

    def __init__(self, return_weighted_child_logits=True, logspace_accumulators=None,
                 accumulator_initializer=None, trainable=True,
                 logspace_accumulator_constraint=None, accumulator_regularizer=None,
                 linear_accumulator_constraint=None, sum_op=None, **kwargs):
        super().__init__(logspace_accumulators, accumulator_initializer, sum_op,
                         accumulator_regularizer, logspace_accumulator_constraint,
                         linear_accumulator_constraint, trainable=trainable, **kwargs)
        self.return_weighted_child_logits = bool(return_weighted_child_logits)

    def build(self, input_shape):
        check_region_shape(self, input_shape)
        _, scopes, decomps, nodes = input_shape
        if scopes != 1:
            raise ValueError(f"RootSum expects a single scope. Received: input_shape="
                             f"{tuple(input_shape)} (scopes={scopes}); add products first.")
        self._num_children = decomps * nodes
        self._add_accumulators([1, 1, self._num_children, 1])

    def call(self, x):
        x = tf.reshape(x, [-1, 1, 1, self._num_children])
        acc = tf.convert_to_tensor(self.accumulators)
        if self.return_weighted_child_logits:
            out = self.sum_op.weighted_children(x, acc, self.logspace_accumulators)
            return tf.reshape(out, [-1, self._num_children])
        return tf.reshape(self.sum_op.weighted_sum(x, acc, self.logspace_accumulators), [-1, 1])

    def compute_output_shape(self, input_shape):
        width = input_shape[2] * input_shape[3] if self.return_weighted_child_logits else 1
        return (input_shape[0], width)

    def get_config(self):
        return {**super().get_config(),
                "return_weighted_child_logits": self.return_weighted_child_logits}
