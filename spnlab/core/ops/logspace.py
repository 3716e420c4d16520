"""Numerically stable log-space primitives.

Every function here accepts `-inf` (probability zero) and never produces NaN from finite or
`-inf` inputs: a log-sum-exp over nothing but `-inf` is `-inf`.
"""
import tensorflow as tf


def safe_max(x, axis, keepdims=True):
    """Max over `axis` with non-finite results replaced by 0, for use as a shift.

    Shifting by a `-inf` maximum would produce `-inf - -inf = NaN`; shifting by 0 instead leaves
    `exp(x - 0) = 0` for those rows, which is exactly right.
    """
    m = tf.stop_gradient(tf.reduce_max(x, axis=axis, keepdims=keepdims))
    return tf.where(is_finite(m), m, tf.zeros_like(m))


def is_finite(x):
    """`|x| < inf` (False for NaN), as `tf.math.is_finite` but binary: Grappler moves a unary
    op with a bool output (IsFinite) above transposes and reshapes, and oneDNN then logs an
    ERROR line for the bool transpose ("supports DT_BOOL only on platforms with AVX-512")."""
    return tf.abs(x) < tf.constant(float("inf"), x.dtype)


def logsumexp(x, axis, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, max-shifted, `-inf` for all-`-inf` rows.

    The gradient is `softmax(x)`, and 0 (not `inf * 0 = NaN`) for an all-`-inf` row, so a
    sample of probability 0 in a batch leaves the other samples' gradients intact.
    """
    @tf.custom_gradient
    def _logsumexp(x):
        m = safe_max(x, axis=axis)
        e = tf.exp(x - m)
        total = tf.reduce_sum(e, axis=axis, keepdims=True)

        def grad(dy):
            return dy * tf.math.divide_no_nan(e, total)

        return tf.math.log(total) + m, grad

    out = _logsumexp(x)
    return out if keepdims else tf.squeeze(out, axis=axis)


def normalize_log_weights(accumulators, logspace, axis=-2):
    """Normalised log-weights from accumulators.

    Args:
        accumulators: unnormalised weights, `[..., num_in, num_out]`; log-space values when
            `logspace` is true, non-negative linear values otherwise.
        logspace: whether `accumulators` hold logs.
        axis: the axis of the children of each sum (normalised over).

    Returns:
        Log-weights of the same shape, `logsumexp` over `axis` equal to 0.
    """
    if logspace:
        return tf.nn.log_softmax(accumulators, axis=axis)
    total = tf.reduce_sum(accumulators, axis=axis, keepdims=True)
    # An all-zero column is a sum of probability 0 (-inf), as in `normalize_weights`, not NaN.
    return tf.math.log(tf.math.divide_no_nan(accumulators, total))


def normalize_weights(accumulators, logspace, axis=-2):
    """Normalised linear weights `exp(normalize_log_weights(...))`, in fewer passes.

    A sum whose accumulators are all 0 gets weights 0 (probability 0), not NaN.
    """
    if logspace:
        return tf.exp(accumulators - logsumexp(accumulators, axis=axis, keepdims=True))
    total = tf.reduce_sum(accumulators, axis=axis, keepdims=True)
    return tf.math.divide_no_nan(accumulators, total)


def normalize_log_weights_vjp(accumulators, logspace, d_log_w, axis=-2):
    """Vector-Jacobian product of `normalize_log_weights` (the exact gradient to accumulators).

    For log-space accumulators a, l = a - logsumexp(a): dL/da = g - softmax(a) * sum(g).
    For linear accumulators a, l = log a - log sum a: dL/da = g / a - sum(g) / sum(a).
    """
    g_sum = tf.reduce_sum(d_log_w, axis=axis, keepdims=True)
    if logspace:
        return d_log_w - tf.nn.softmax(accumulators, axis=axis) * g_sum
    total = tf.reduce_sum(accumulators, axis=axis, keepdims=True)
    return tf.math.divide_no_nan(d_log_w, accumulators) - g_sum / total


def log_softmax_safe(x, axis=-1):
    """log-softmax that maps an all-`-inf` row to all `-inf` instead of NaN."""
    lse = logsumexp(x, axis=axis, keepdims=True)
    finite = is_finite(lse)
    shifted = x - tf.where(finite, lse, tf.zeros_like(lse))
    return tf.where(finite, shifted, tf.fill(tf.shape(x), tf.constant(-float("inf"), x.dtype)))
