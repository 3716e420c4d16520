"""Checks of the data a model reads, eagerly and inside `tf.function`.

Eagerly a bad value is a ValueError (or TypeError) that names the argument and the value. In a
traced function (`fit`, `predict`, a session's compiled step) the checks are run-time assertions,
and the checked tensor is returned *after* them (`after`): everything computed from it (the
log-likelihood, the gradients, an optimiser's update) depends on the assertions, so a refused
batch fails the step before any variable changes. A bare `tf.debugging.Assert` does not give
that: TensorFlow runs it, but not necessarily before the update.
"""
import tensorflow as tf


def after(checks, x):
    """`x`, computed after the assertion ops `checks` (graph mode); `x` itself eagerly."""
    checks = [c for c in checks if c is not None]
    if not checks or tf.executing_eagerly():
        return x
    with tf.control_dependencies(checks):
        return tf.identity(x)


def check_real_dtype(x, arg_name="x"):
    """Refuse data that is not real numbers (bool is the caller's choice): complex values
    would lose their imaginary part and strings cannot be read."""
    dtype = tf.as_dtype(x.dtype)
    if dtype.is_complex or dtype == tf.string or not (dtype.is_floating or dtype.is_integer
                                                      or dtype == tf.bool):
        raise TypeError(f"Expected `{arg_name}` to hold real numbers (integers or floats). "
                        f"Received dtype {dtype.name}")


def check_finite_values(x, arg_name="x", observed=None):
    """Refuse NaN and +-inf (where `observed`, a bool tensor broadcastable to `x`, is True).

    Returns `x`, in a graph made to depend on the check (see `after`)."""
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        return x
    # `|x| < inf` is False for NaN. Never negate it: Grappler rewrites not(a < b) as a >= b,
    # which is False for NaN too, and the check would pass NaN.
    ok = tf.abs(x) < tf.constant(float("inf"), x.dtype)
    if observed is not None:
        ok = tf.logical_or(ok, tf.logical_not(tf.cast(observed, tf.bool)))
    if tf.executing_eagerly():
        if not bool(tf.reduce_all(ok)):
            index = tuple(int(i) for i in tf.where(~ok)[0].numpy())
            raise ValueError(f"Expected finite `{arg_name}` values. Received "
                             f"{arg_name}{list(index)}={x[index].numpy()}")
        return x
    check = tf.debugging.assert_equal(tf.reduce_all(ok), True, message=(
        f"Expected finite `{arg_name}` values. Received NaN or inf"))
    return after([check], x)


def step_after_check(step, check, data):
    """Run a Keras `train_step`/`test_step` on `data` with every op of it after `check(x)`:
    the optimiser's iteration counter and the metrics too, not only what is computed from `x`
    (they would otherwise count a refused batch).

    Args:
        step: the parent class's bound step (e.g. `super().train_step`).
        check: `x -> x`, the model's data check (returns `x` after its assertions).
        data: what Keras hands the step: `x`, or a tuple `(x, y[, sample_weight])`.
    """
    import keras
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    if isinstance(x, (tuple, list, dict)):       # (x, evidence_mask) pairs: checked in call
        return step(data)
    x = check(x)
    data = keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
    if tf.executing_eagerly():
        return step(data)
    with tf.control_dependencies([x]):
        return step(data)
