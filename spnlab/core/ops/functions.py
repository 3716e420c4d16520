"""`own_function`: a `tf.function` with its own retracing counter."""
import functools

import tensorflow as tf


def own_function(fn, **kwargs):
    """`tf.function(fn, **kwargs)` whose traces are counted apart from other functions'.

    TensorFlow warns "N out of the last N calls to <function ...> triggered tf.function
    retracing" when 5 of the last 10 calls of functions with the same Python code traced, all
    functions of one code object (e.g. a closure built once per model, or one method of many
    instances) sharing one counter. spnlab builds one function per model and setting (sum ops,
    accumulator spaces, input signature), each traced once, so several models or a few sum-op
    switches trip that counter although nothing retraces. Wrapped in a `functools.partial`,
    which has no `__code__`, the function is counted under its own key; a real retrace of the
    same function is still reported.
    """
    return tf.function(functools.partial(fn), **kwargs)
