"""The leaf base class: per-component log-densities of region inputs, with evidence masks.

Input `[batch, scopes, decomps, var_dims]` (what `FlatToRegions` makes; spatial `[B, H, W, C]`
works the same, H and W playing scopes and decomps). Every (scope, decomp) gets `num_components`
univariate (or, over `var_dims`, diagonal) distributions; the output is
`[batch, scopes, decomps, num_components]` log-densities, summed over `var_dims`.
Distribution parameters have shape `[1, scopes, decomps, num_components, var_dims]` as in
LibSPN-Keras.
"""
import keras
import tensorflow as tf

from spnlab.core.ops.checks import check_finite_values, check_real_dtype

LEAF_CONFIG_KEYS = ("num_components",)


class BaseLeaf(keras.layers.Layer):
    """Subclasses implement `_build_parameters(shape)`, `_log_prob(x)`, `_log_mode_density()`,
    `_modes()` and `_sample(seed_stream, shape)`; this class does shapes, evidence and summing.

    Args:
        num_components: distributions per (scope, decomp).
    """

    def __init__(self, num_components, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_components, bool) or not isinstance(num_components, int) \
                or num_components < 1:
            raise ValueError("Expected `num_components` to be a positive int. "
                             f"Received: num_components={num_components!r}")
        self.num_components = num_components

    def check_input(self, x, arg_name="x"):
        """The data this leaf reads, checked (see `spnlab.core.ops.checks`): real, finite
        numbers, all observed (queries with evidence masks check theirs first). A model calls it on its raw input, before
        Keras casts that to the input dtype (which would floor 0.5 to 0 for an int model).
        Discrete leaves also require integers in range and read bool as 0/1."""
        x = tf.convert_to_tensor(x)
        check_real_dtype(x, arg_name)
        if x.dtype == tf.bool:
            raise TypeError(f"Expected `{arg_name}` to hold real numbers for the continuous "
                            f"{type(self).__name__}. Received dtype bool")
        return check_finite_values(x, arg_name)

    def build(self, input_shape):
        if len(input_shape) != 4 or any(d is None for d in input_shape[1:]):
            raise ValueError(
                f"{type(self).__name__} expects inputs [batch, scopes, decomps, var_dims] with "
                f"known sizes (use FlatToRegions first). Received: input_shape={input_shape}")
        _, scopes, decomps, dims = input_shape
        self._build_parameters([1, scopes, decomps, self.num_components, dims])

    def call(self, x, evidence_mask=None, marginalize="sum"):
        """Log-densities `[B, S, D, K]`.

        Args:
            x: `[B, S, D, V]` values.
            evidence_mask: optional bool, broadcastable to `[B, S, D, 1]`; where False the
                variable is unobserved and the leaf gives log 1 = 0 (`marginalize="sum"`) or the
                log-density at the component's mode (`marginalize="max"`, for max-product MPE).
        """
        log_p = tf.reduce_sum(self._log_prob(x[..., None, :]), axis=-1)      # [B, S, D, K]
        if evidence_mask is None:
            return log_p
        if marginalize == "max":
            fill = tf.reduce_sum(self._log_mode_density(), axis=-1)          # [1, S, D, K]
        else:
            fill = tf.zeros([], log_p.dtype)
        return tf.where(tf.cast(evidence_mask, tf.bool), log_p, fill)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_components,)

    def modes(self):
        """The mode of every component, `[1, S, D, K, V]` (float)."""
        return self._modes()

    def sample_components(self, generator, batch_size):
        """One draw from every component, `[batch_size, S, D, K, V]` (float)."""
        return self._sample(generator, batch_size)

    def get_config(self):
        return {**super().get_config(), "num_components": self.num_components}

    # -- implemented by subclasses ----------------------------------------------------------
    def _build_parameters(self, shape):
        raise NotImplementedError

    def _log_prob(self, x):
        """`[B, S, D, 1, V]` values -> `[B, S, D, K, V]` log-densities."""
        raise NotImplementedError

    def _log_mode_density(self):
        """`[1, S, D, K, V]` log-density at each component's mode."""
        raise NotImplementedError

    def _modes(self):
        raise NotImplementedError

    def _sample(self, generator, batch_size):
        raise NotImplementedError


def with_em_statistics(log_prob_fn, accumulators, statistics):
    """Call `log_prob_fn(*accumulators)` with EM sufficient statistics as the accumulators' gradient.

    Args:
        log_prob_fn: maps the accumulator tensors to log-densities `[B, S, D, K, V]`.
        accumulators: the accumulator tensors (one per statistic).
        statistics: one function per accumulator mapping the signal `dy [B, S, D, K, V]` at the
            log-densities to that accumulator's signal, e.g. `sum_b dy * x` for a first moment.

    With online EM's `A <- (1 - lr) A + lr * (-grad)` and a mean NLL loss (`dy = -posterior / B`),
    each accumulator blends in the batch's posterior-weighted mean statistic: the M-step.
    """

    @tf.custom_gradient
    def _inner(*accs):
        out = log_prob_fn(*accs)

        def grad(dy):
            return tuple(stat(dy) for stat in statistics)

        return out, grad

    return _inner(*accumulators)
