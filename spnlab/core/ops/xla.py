"""XLA compilation of the few large tensor computations of a training step.

On CPU, TensorFlow's BatchMatMul runs the sum layers' `[S*D]`-batched products at a third to a
half of the speed of the same product compiled by XLA (RAT-SPN benchmark layer, 2-core CPU:
70 vs 34 ms for `e @ w`, 104 vs 38 ms for `c @ w^T`, 110 vs 48 ms for `c^T @ e`), and XLA fuses
chains of elementwise ops and reductions into one pass over memory. Only such pieces are
compiled, and only when large: XLA's CPU transposes are slower than TensorFlow's, and compiling
small tensors would only add compile time (a test suite builds hundreds of small models).
"""
import functools

import tensorflow as tf

# Computations whose main operand has at least this many entries go through XLA.
XLA_MIN_SIZE = 2 ** 20


def static_size(t):
    """Number of entries of `t` from its static shape, unknown dimensions counted as 1."""
    n = 1
    for dim in t.shape:
        n *= dim or 1
    return n


def xla_when_large(fn):
    """Decorator: run `fn` XLA-compiled when its first argument has >= XLA_MIN_SIZE entries.

    `fn` must be a pure TensorFlow function of tensors (plus hashable Python constants).
    """
    compiled = tf.function(fn, jit_compile=True, autograph=False, reduce_retracing=True)

    @functools.wraps(fn)
    def wrapper(first, *args, **kwargs):
        if static_size(first) >= XLA_MIN_SIZE:
            return compiled(first, *args, **kwargs)
        return fn(first, *args, **kwargs)

    return wrapper


def batched_matmul(a, b, transpose_a=False, transpose_b=False, size=0):
    """`tf.linalg.matmul(a, b, ...)`, XLA-compiled when `size >= XLA_MIN_SIZE`.

    Args:
        a, b: `[..., M, K]` and `[..., K, N]` (after the optional transposes).
        size: a static measure of the work, e.g. the layer's number of weights.
    """
    if size >= XLA_MIN_SIZE:
        return _xla_matmul(a, b, transpose_a, transpose_b)
    return tf.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)


@tf.function(jit_compile=True, autograph=False)
def _xla_matmul(a, b, transpose_a, transpose_b):
    return tf.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
