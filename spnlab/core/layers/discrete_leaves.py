"""Discrete leaves: indicators (fixed) and categorical / Bernoulli (learned)."""
import keras
import tensorflow as tf

from spnlab.core import initializers
from spnlab.core.layers.leaves_base import BaseLeaf, with_em_statistics
from spnlab.core.ops.checks import after, check_real_dtype

register = keras.saving.register_keras_serializable(package="spnlab")

NEG_INF = float("-inf")


def check_discrete_values(x, num_values, arg_name="x"):
    """Reject non-integral or out-of-range discrete values.

    Eagerly a ValueError naming the first bad value; inside a `tf.function` (e.g. `model.fit`)
    run-time assertions that fail with the same message as an InvalidArgumentError, so bad data
    never turns into a silent -inf log-likelihood.

    Returns:
        `x`; in a graph, made to depend on the assertions, so that nothing computed from it
        (an optimiser update) can run when they fail.
    """
    x = tf.convert_to_tensor(x)
    check_real_dtype(x, arg_name)
    if x.dtype == tf.bool:                      # binary data as bool: False/True are 0/1
        x = tf.cast(x, tf.int32)
    if not tf.executing_eagerly():
        return after(_assert_discrete_values(x, num_values, arg_name), x)
    if x.dtype.is_floating:
        if not bool(tf.reduce_all(tf.math.is_finite(x))):
            raise ValueError(f"Expected finite `{arg_name}` values. Received NaN or inf in {arg_name}.")
        if not bool(tf.reduce_all(tf.equal(x, tf.round(x)))):
            bad = tf.boolean_mask(x, tf.not_equal(x, tf.round(x)))[0].numpy()
            raise ValueError(f"Expected integer values in `{arg_name}`. Received: {bad}")
    if tf.size(x) and (bool(tf.reduce_any(x < 0)) or bool(tf.reduce_any(x >= num_values))):
        bad = tf.boolean_mask(x, tf.logical_or(x < 0, x >= num_values))[0].numpy()
        raise ValueError(f"Expected `{arg_name}` values in [0, {num_values}). Received: {bad}")
    return x


def _assert_discrete_values(x, num_values, arg_name):
    checks = []
    if x.dtype.is_floating:
        checks.append(tf.debugging.assert_equal(x, tf.round(x), message=(
            f"Expected finite integer values in `{arg_name}`. Received NaN, inf or a fraction")))
    checks.append(tf.debugging.assert_greater_equal(x, tf.zeros([], x.dtype), message=(
        f"Expected `{arg_name}` values in [0, {num_values}). Received a negative value")))
    checks.append(tf.debugging.assert_less(x, tf.cast(num_values, x.dtype), message=(
        f"Expected `{arg_name}` values in [0, {num_values}). Received a value >= {num_values}")))
    return checks


@register
class IndicatorLeaf(BaseLeaf):
    """`log [x == k]` for k in 0..num_components-1: 0 where the variable takes value k, -inf else.

    Input `[B, S, D, V]` integer values (any integer or float dtype holding integers).
    """

    def __init__(self, num_components, dtype="int32", **kwargs):
        super().__init__(num_components, dtype=dtype, **kwargs)

    def _build_parameters(self, shape):
        self._param_shape = shape

    def check_input(self, x, arg_name="x"):
        """Integers in [0, num_components) (bool read as 0/1); see `BaseLeaf.check_input`."""
        return check_discrete_values(x, self.num_components, arg_name)

    def call(self, x, evidence_mask=None, marginalize="sum"):
        x = check_discrete_values(x, self.num_components)
        return super().call(x, evidence_mask=evidence_mask, marginalize=marginalize)

    def _values(self):
        return tf.range(self.num_components, dtype=tf.float32)[:, None]      # [K, 1]

    def _log_prob(self, x):
        hit = tf.equal(tf.cast(x, tf.float32), self._values())              # [B, S, D, K, V]
        return tf.where(hit, 0.0, NEG_INF)

    def _log_mode_density(self):
        return tf.zeros(self._param_shape)

    def _modes(self):
        return tf.broadcast_to(self._values(), self._param_shape)

    def _sample(self, generator, batch_size):
        return tf.broadcast_to(self._values(), [batch_size] + self._param_shape[1:])


@register
class CategoricalLeaf(BaseLeaf):
    """Categorical components over `num_categories` values (LibSPN-Keras has none).

    Each component k of every (scope, decomp) has its own distribution over the values
    0..num_categories-1. Learned by gradient (log-space logits) or, with `use_accumulators`, by
    online EM (per-value soft counts whose gradient is the batch's posterior-weighted counts).

    Args:
        num_components: distributions per (scope, decomp).
        num_categories: values a variable can take.
        use_accumulators: EM-learned counts instead of gradient-learned logits.
        accumulator_initializer: initial counts (EM) or logits (gradient); default a random
            uniform in [0.5, 1.5] for counts and normal(0, 0.5) for logits, so components differ.
    """

    def __init__(self, num_components, num_categories=2, use_accumulators=False,
                 accumulator_initializer=None, **kwargs):
        super().__init__(num_components, **kwargs)
        if isinstance(num_categories, bool) or not isinstance(num_categories, int) \
                or num_categories < 2:
            raise ValueError("Expected `num_categories` to be an int >= 2. "
                             f"Received: num_categories={num_categories!r}")
        self.num_categories = num_categories
        self.use_accumulators = bool(use_accumulators)
        default = (keras.initializers.RandomUniform(0.5, 1.5) if use_accumulators
                   else keras.initializers.RandomNormal(stddev=0.5))
        self.accumulator_initializer = initializers.get(accumulator_initializer or default)

    def _build_parameters(self, shape):
        self._param_shape = shape
        name = "category_counts_accum" if self.use_accumulators else "category_logits"
        self.category_params = self.add_weight(
            name=name, shape=shape + [self.num_categories],
            initializer=self.accumulator_initializer)

    def log_probs(self):
        """Per-value log-probabilities `[1, S, D, K, V, C]`."""
        return self._log_probs_from(tf.convert_to_tensor(self.category_params))

    def _log_probs_from(self, params):
        if self.use_accumulators:
            # A component no sample chose (all counts 0, e.g. hard EM with lr = 1) is uniform.
            total = tf.reduce_sum(params, -1, keepdims=True)
            uniform = tf.fill(tf.shape(params), tf.constant(1.0 / self.num_categories,
                                                            params.dtype))
            return tf.math.log(tf.where(total > 0, tf.math.divide_no_nan(params, total), uniform))
        return tf.nn.log_softmax(params, axis=-1)

    def check_input(self, x, arg_name="x"):
        """Integers in [0, num_categories) (bool read as 0/1); see `BaseLeaf.check_input`."""
        return check_discrete_values(x, self.num_categories, arg_name)

    def call(self, x, evidence_mask=None, marginalize="sum"):
        x = check_discrete_values(x, self.num_categories)
        return super().call(x, evidence_mask=evidence_mask, marginalize=marginalize)

    def _log_prob(self, x):
        one_hot = tf.one_hot(tf.cast(x, tf.int32), self.num_categories)     # [B, S, D, 1, V, C]
        params = tf.convert_to_tensor(self.category_params)

        def log_prob_fn(p):
            return tf.reduce_sum(one_hot * self._log_probs_from(p), axis=-1)   # [B, S, D, K, V]

        if not self.use_accumulators:
            return log_prob_fn(params)
        stats = [lambda dy: tf.reduce_sum(dy[..., None] * one_hot, axis=0, keepdims=True)]
        return with_em_statistics(log_prob_fn, [params], stats)

    def _log_mode_density(self):
        return tf.reduce_max(self.log_probs(), axis=-1)

    def _modes(self):
        return tf.cast(tf.argmax(self.log_probs(), axis=-1), tf.float32)

    def _sample(self, generator, batch_size):
        log_p = self.log_probs()                                            # [1, S, D, K, V, C]
        shape = tf.concat([[batch_size], tf.shape(log_p)[1:]], axis=0)
        u = generator.uniform(shape, minval=1e-20, maxval=1.0)
        return tf.cast(tf.argmax(log_p - tf.math.log(-tf.math.log(u)), axis=-1), tf.float32)

    def get_config(self):
        return {**super().get_config(), "num_categories": self.num_categories,
                "use_accumulators": self.use_accumulators,
                "accumulator_initializer":
                    keras.initializers.serialize(self.accumulator_initializer)}


@register
class BernoulliLeaf(CategoricalLeaf):
    """Bernoulli components over {0, 1}: a `CategoricalLeaf` with two categories."""

    def __init__(self, num_components, use_accumulators=False, accumulator_initializer=None,
                 **kwargs):
        kwargs.pop("num_categories", None)
        super().__init__(num_components, num_categories=2, use_accumulators=use_accumulators,
                         accumulator_initializer=accumulator_initializer, **kwargs)
