"""The part every sum op shares: forward value, accumulator handling, custom-gradient wiring.

All five sum ops compute the same forward value (DESIGN.md section 3)

    y[b,j] = log sum_i exp(x[b,i] + l[i,j])

and differ only in what flows backward. A subclass implements `_backward`, which maps the signal
`dy` arriving at `y` to a signal for the children `x` and a signal for the log-weights `l`;
this class does everything else (normalising accumulators, the shifted log-matmul, chaining the
weight signal to the accumulators, config).
"""
import keras
import tensorflow as tf

from spnlab.core.ops.logspace import logmatmul_parts, normalize_log_weights, \
    normalize_log_weights_vjp


class ForwardCache:
    """What the forward pass leaves for the backward pass of one dense sum.

    Attributes:
        x: child log-values `[B, S, D, I]`.
        log_w: normalised log-weights `[S, D, I, O]`.
        shift: per-row shift `m = max_i x` (0 where all children are -inf), `[B, S, D, 1]`.
        e: `exp(x - m)`, `[B, S, D, I]`; w: `exp(log_w)`, `[S, D, I, O]`.
        prod: `sum_i e_i w_ij`, `[B, S, D, O]` (so `y = log(prod) + m`).
        y: the forward value `[B, S, D, O]` (sum or max, see `max_product`).
    """

    def __init__(self, x, log_w, shift, e, w, prod, y):
        self.x, self.log_w, self.shift, self.e, self.w = x, log_w, shift, e, w
        self.prod, self.y = prod, y


class SumOpBase:
    """Base class of the sum ops. Subclasses implement `_backward(cache, dy)`.

    Class attributes a subclass sets:
        chain_to_accumulators: True when the weight signal is the exact gradient of the
            accumulators (chained through the normalisation); False for the EM ops, whose weight
            signal is handed to the optimiser as it is (counts).
        needs_linear_accumulators: the op only works with linear accumulators (EM).
        normalizes_counts: the optimiser should normalise this op's counts per sum before the
            online-EM update (soft EM). Done in the optimiser, after the signals of all
            replicas and accumulated batches are added up, so that every sample counts alike.
    """

    chain_to_accumulators = False
    needs_linear_accumulators = False
    normalizes_counts = False
    # Max-product forward (y = max_i x_i + l_ij); only the internal MPE op turns it on.
    max_product = False

    def default_logspace_accumulators(self):
        """Whether a sum layer using this op keeps its accumulators in log space by default."""
        return False

    # -- the shared forward pass ------------------------------------------------------------
    def weighted_sum(self, x, accumulators, logspace_accumulators):
        """Forward value of dense sums with this op's backward pass.

        Args:
            x: child log-values `[batch, scopes, decomps, num_in]`.
            accumulators: unnormalised weights `[scopes, decomps, num_in, num_out]`.
            logspace_accumulators: whether `accumulators` are log-space.

        Returns:
            `[batch, scopes, decomps, num_out]` log-values.
        """
        @tf.custom_gradient
        def _sum(x, accumulators):
            log_w = normalize_log_weights(accumulators, logspace_accumulators)    # [S, D, I, O]
            shift, e, w, prod, y = logmatmul_parts(x, log_w)
            if self.max_product:
                y = max_product(x, log_w)
            cache = ForwardCache(x, log_w, shift, e, w, prod, y)

            def grad(dy):
                dx, d_log_w = self._backward(cache, dy)
                return dx, self._accumulator_signal(accumulators, logspace_accumulators, d_log_w)

            return y, grad

        return _sum(x, accumulators)

    def weighted_children(self, x, accumulators, logspace_accumulators):
        """Weighted child log-values `x[b,i] + l[i,j]`, for classification heads.

        Args:
            x: `[batch, scopes, decomps, num_in]`; accumulators `[scopes, decomps, num_in, num_out]`.

        Returns:
            `[batch, scopes, decomps, num_in, num_out]`. The backward pass is the same for every
            op (each term depends on one child and one weight); only how the weight signal
            reaches the accumulators differs.
        """
        @tf.custom_gradient
        def _children(x, accumulators):
            log_w = normalize_log_weights(accumulators, logspace_accumulators)
            out = x[..., None] + log_w                                   # [B, S, D, I, O]

            def grad(dy):
                dx = tf.reduce_sum(dy, axis=-1)                          # [B, S, D, I]
                d_log_w = tf.reduce_sum(dy, axis=0)                      # [S, D, I, O]
                return dx, self._accumulator_signal(accumulators, logspace_accumulators, d_log_w)

            return out, grad

        return _children(x, accumulators)

    # -- hooks ---------------------------------------------------------------------------
    def _backward(self, cache, dy):
        """Signals `(dx [B,S,D,I], d_log_w [S,D,I,O])` for the signal `dy [B,S,D,O]`."""
        raise NotImplementedError

    def _accumulator_signal(self, accumulators, logspace, d_log_w):
        """The signal handed to the optimiser for the accumulators `[S, D, I, O]`."""
        if self.chain_to_accumulators:
            return normalize_log_weights_vjp(accumulators, logspace, d_log_w)
        return d_log_w

    def _check_accumulator_space(self, logspace_accumulators):
        if self.needs_linear_accumulators and logspace_accumulators:
            raise ValueError(
                f"{type(self).__name__} needs linear accumulators (its weight signal is a count). "
                f"Received: logspace_accumulators={logspace_accumulators}")

    # -- config ----------------------------------------------------------------------------
    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def max_product(x, log_w):
    """`y[b,s,d,j] = max_i x[b,s,d,i] + log_w[s,d,i,j]`: the weighted max of max-product MPE.

    Materialises `[B, S, D, I, O]`; used for inference, not training.
    """
    return tf.reduce_max(x[..., None] + log_w, axis=-2)


def soft_signals(cache, dy):
    """Posterior-weighted signals shared by the gradient and soft-EM ops.

    With p[b,i,j] = exp(x_i + l_ij - y_j), the child signal is sum_j dy_j p_ij and the weight
    signal sum_b dy_j p_ij. Writing p_ij = exp(x_i - m) w_ij / prod_j keeps it to two matmuls:
        c = dy / prod                       (0 where prod = 0: such a sum has y = -inf)
        dx = exp(x - m) * (c @ w^T)
        d_log_w = w * (exp(x - m)^T @ c)
    """
    e, w = cache.e, cache.w                                              # [B,S,D,I], [S,D,I,O]
    c = tf.math.divide_no_nan(dy, cache.prod)                            # [B, S, D, O]
    dx = e * tf.einsum("bsdo,sdio->bsdi", c, w)                          # [B, S, D, I]
    d_log_w = w * tf.einsum("bsdi,bsdo->sdio", e, c)                     # [S, D, I, O]
    return dx, d_log_w


def check_sample_prob(sample_prob):
    """Validate `sample_prob` (None or a number in [0, 1]) and return it as a float or None."""
    if sample_prob is None:
        return None
    if isinstance(sample_prob, bool) or not isinstance(sample_prob, (int, float)):
        raise TypeError(
            f"Expected `sample_prob` to be None or a number. Received: sample_prob={sample_prob!r}")
    if not 0.0 <= float(sample_prob) <= 1.0:
        raise ValueError(f"Expected `sample_prob` in [0, 1]. Received: sample_prob={sample_prob}")
    return float(sample_prob)


def make_generator(seed):
    """A `tf.random.Generator` created outside any function trace (seeded, or from OS entropy)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"Expected `seed` to be None or an int. Received: seed={seed!r}")
    with tf.init_scope():
        if seed is None:
            return tf.random.Generator.from_non_deterministic_state()
        return tf.random.Generator.from_seed(seed)


register = keras.saving.register_keras_serializable(package="spnlab")
