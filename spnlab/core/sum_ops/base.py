"""The part every sum op shares: forward value, accumulator handling, custom-gradient wiring.

All five sum ops compute the same forward value (DESIGN.md section 3)

    y[b,j] = log sum_i exp(x[b,i] + l[i,j])

and differ only in what flows backward. A subclass implements `_backward`, which maps the signal
`dy` arriving at `y` to a signal for the children `x` and a signal for the log-weights `l`;
this class does everything else (normalising accumulators, the shifted log-matmul, chaining the
weight signal to the accumulators, config).
"""
import keras
import numpy as np
import tensorflow as tf

from spnlab.core.ops.logspace import normalize_log_weights, normalize_log_weights_vjp, \
    normalize_weights, safe_max
from spnlab.core.ops.xla import batched_matmul, static_size
from spnlab.core.sum_ops.children import DenseChildren, ProductChildren


class ForwardCache:
    """What the forward pass leaves for the backward pass of one dense sum layer.

    Everything is in the scopes-first layout `[S, D, B, ...]` (see `children.py`).

    Attributes:
        children: `DenseChildren` or `ProductChildren`; holds `e = exp(x - shift)`
            `[S, D, B, I]`, the per-row `shift` `[S, D, B, 1]`, and maps child signals back to
            the layer input.
        w: normalised weights `[S, D, I, O]`; log_w: their logs (formed on first use).
        prod: `e @ w`, `[S, D, B, O]` (so the sum's log-value is `log(prod) + shift`).
        y: the forward value `[S, D, B, O]` (sum, or max for the max-product op).
    """

    def __init__(self, children, w, prod, y):
        self.children, self.w, self.prod, self.y = children, w, prod, y
        self._log_w = None

    @property
    def log_w(self):
        if self._log_w is None:
            self._log_w = tf.math.log(self.w)
        return self._log_w

    @property
    def e(self):
        return self.children.e


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
    # `_backward` is `soft_signals` (gradient, soft EM): node graphs then run it node-major.
    soft_backward = False

    _generator = None            # the ops that draw (argmax ties, posterior samples) have one

    def default_logspace_accumulators(self):
        """Whether a sum layer using this op keeps its accumulators in log space by default."""
        return False

    # -- its random generator (None for the deterministic ops) ------------------------------
    @property
    def generator(self):
        """The op's `tf.random.Generator` (ties and draws), or None when it draws nothing."""
        return self._generator

    def generator_state(self):
        """A copy of the generator's state (int64 numpy), or None: enough to resume exactly."""
        return None if self._generator is None else self._generator.state.numpy().copy()

    def set_generator_state(self, state):
        """Put the generator back where `generator_state()` found it."""
        if self._generator is None:
            raise ValueError(f"{type(self).__name__} has no random generator to set. "
                             f"Received: state={state!r}")
        self._generator.state.assign(np.asarray(state, dtype=np.int64))

    def reseed(self, seed):
        """Restart the generator from the int `seed` (and remember it as `seed`)."""
        if self._generator is None:
            return
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"Expected `seed` to be an int. Received: seed={seed!r}")
        self.seed = int(seed)
        self._generator.reset_from_seed(int(seed))

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
        return self._dense_sum(x, accumulators, logspace_accumulators, DenseChildren)

    def weighted_sum_node_major(self, x, accumulators, logspace_accumulators):
        """`weighted_sum` for G sums in the node-major layout of node graphs, batch last.

        Node-graph sums have a few children each and the batch is the long axis, so the
        forward pass runs as `w^T @ exp(x - shift)` with the batch contiguous (2 to 3 times
        faster on CPU than the layer layout for 2-3 children). The backward pass is the
        soft signals in the same layout for the gradient and soft-EM ops, else this op's
        `_backward` on the values moved to the `[S, D, B, I]` layout (S = G, D = 1); either
        way the signals are those of `weighted_sum`.

        Args:
            x: child log-values `[G, num_in, batch]`.
            accumulators: unnormalised weights `[G, num_in, num_out]`.

        Returns:
            `[G, num_out, batch]` log-values.
        """
        @tf.custom_gradient
        def _sum(x, accumulators):
            w = normalize_weights(accumulators, logspace_accumulators, axis=-2)    # [G, I, O]
            y, prod, e = node_major_log_sum(x, w, with_exps=True)                # [G, O, B]
            if self.max_product:
                y = tf.reduce_max(x[:, :, None, :] + tf.math.log(w)[..., None], axis=1)

            def grad(dy):
                if self.soft_backward:
                    dx, d_log_w = soft_signals_node_major(e, w, prod, dy)
                    return dx, self._accumulator_signal(accumulators, logspace_accumulators,
                                                        d_log_w)

                def layer_layout(t):
                    return tf.transpose(t, [0, 2, 1])[:, None]                    # [G, 1, B, .]
                children = DenseChildren(layer_layout(x), scopes_first=True)
                cache = ForwardCache(children, w[:, None], layer_layout(prod), layer_layout(y))
                dx, d_log_w = self._backward(cache, layer_layout(dy))
                return (tf.transpose(dx[:, 0], [0, 2, 1]),
                        self._accumulator_signal(accumulators, logspace_accumulators,
                                                 d_log_w[:, 0]))

            return y, grad

        return _sum(x, accumulators)

    def weighted_product_sum(self, x, num_factors, accumulators, logspace_accumulators):
        """`DenseSum(DenseProduct(num_factors)(x))` in one pass, with this op's backward pass.

        The product layer's `[B, S, D, N**F]` log-values are never formed (see
        `children.ProductChildren`); values and signals equal those of the two layers run one
        after the other.

        Args:
            x: the product layer's input `[batch, scopes * F, decomps, N]`.
            num_factors: F, the product layer's fan-in.
            accumulators: `[scopes, decomps, N**F, num_out]`.

        Returns:
            `[batch, scopes, decomps, num_out]` log-values.
        """
        return self._dense_sum(x, accumulators, logspace_accumulators,
                               lambda t: ProductChildren(t, num_factors))

    def _dense_sum(self, x, accumulators, logspace_accumulators, make_children):
        @tf.custom_gradient
        def _sum(x, accumulators):
            children = make_children(x)
            w = normalize_weights(accumulators, logspace_accumulators)            # [S, D, I, O]
            prod = batched_matmul(children.e, w, size=static_size(w))            # [S, D, B, O]
            cache = ForwardCache(children, w, prod, None)
            if self.max_product:
                cache.y = max_product(children.log_values(), cache.log_w)
            else:
                cache.y = tf.math.log(prod) + children.shift

            def grad(dy):
                dx, d_log_w = self._backward(cache, tf.transpose(dy, [1, 2, 0, 3]))
                return dx, self._accumulator_signal(accumulators, logspace_accumulators, d_log_w)

            return tf.transpose(cache.y, [2, 0, 1, 3]), grad

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
        """Signals `(dx, d_log_w [S,D,I,O])` for the signal `dy [S,D,B,O]`.

        `dx` is in the layer input's layout: build it with `cache.children.signal_of` or
        `cache.children.winner_signal`.
        """
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


def node_major_log_sum(x, w, with_exps=False):
    """`y[g,o,b] = log sum_i exp(x[g,i,b]) w[g,i,o]` for child log-values `x [G, I, B]` and
    normalised weights `w [G, I, O]`, shifted by the max child so that the exps lie in [0, 1]
    (a sum whose children are all -inf gives -inf). Returns `(y, prod)`, both `[G, O, B]`,
    `prod = w^T @ e` with `e = exp(x - shift)` `[G, I, B]` (also returned `with_exps`)."""
    shift = safe_max(x, axis=1)                                          # [G, 1, B]
    e = tf.exp(x - shift)
    prod = tf.matmul(w, e, transpose_a=True)                             # [G, O, B]
    y = tf.math.log(prod) + shift
    return (y, prod, e) if with_exps else (y, prod)


def soft_signals_node_major(e, w, prod, dy):
    """`soft_signals` in the node-major layout: `e [G, I, B]`, `w [G, I, O]`, `prod` and `dy`
    `[G, O, B]` -> `(dx [G, I, B], d_log_w [G, I, O])`."""
    c = tf.math.divide_no_nan(dy, prod)                                  # [G, O, B]
    return e * tf.matmul(w, c), w * tf.matmul(e, c, transpose_b=True)


def max_product(x, log_w, max_elements=2 ** 26):
    """`y[s,d,b,j] = max_i x[s,d,b,i] + log_w[s,d,i,j]`: the weighted max of max-product MPE.

    x `[S, D, B, I]`, log_w `[S, D, I, O]` -> `[S, D, B, O]`. No matmul computes a max, so the
    sums `[S, D, B, I, O]` are formed, for a few outputs at a time to bound the memory.
    """
    num_out = log_w.shape[-1]
    per_output = max(1, x.shape[0] * x.shape[1] * x.shape[-1] * 1024)   # ~1024 rows of batch
    chunk = max(1, min(num_out, max_elements // per_output))
    parts = [tf.reduce_max(x[..., :, None] + log_w[:, :, None, :, j:j + chunk], axis=-2)
             for j in range(0, num_out, chunk)]
    return parts[0] if len(parts) == 1 else tf.concat(parts, axis=-1)


def soft_signals(cache, dy):
    """Posterior-weighted signals shared by the gradient and soft-EM ops.

    With p[b,i,j] = exp(x_i + l_ij - y_j), the child signal is sum_j dy_j p_ij and the weight
    signal sum_b dy_j p_ij. Writing p_ij = exp(x_i - m) w_ij / prod_j keeps it to two batched
    matmuls per layer, in the `[S, D, B, .]` layout:
        c = dy / prod                       (0 where prod = 0: such a sum has y = -inf)
        dx = exp(x - m) * (c @ w^T)
        d_log_w = w * (exp(x - m)^T @ c)    (computed as (c^T @ e)^T, the faster form on CPU)
    """
    e, w = cache.e, cache.w                                              # [S,D,B,I], [S,D,I,O]
    c = tf.math.divide_no_nan(dy, cache.prod)                            # [S, D, B, O]
    size = static_size(w)
    dx = cache.children.signal_of(batched_matmul(c, w, transpose_b=True, size=size))
    d_log_w = w * tf.transpose(batched_matmul(c, e, transpose_a=True, size=size),
                               [0, 1, 3, 2])
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


class WinnerSumOp(SumOpBase):
    """What the ops that choose one child per sum share: `sample_prob`, the seed and its
    generator (argmax ties and posterior draws), and their config. Their weight signal is a
    count, so they need linear accumulators."""

    needs_linear_accumulators = True

    def __init__(self, sample_prob=None, seed=None):
        self.sample_prob = check_sample_prob(sample_prob)
        self.seed = seed
        self._generator = make_generator(seed)

    def get_config(self):
        return {"sample_prob": self.sample_prob, "seed": self.seed}


register = keras.saving.register_keras_serializable(package="spnlab")
