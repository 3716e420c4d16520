"""Level 0 of a compiled graph in TensorFlow: the log-values of every leaf output for a batch.

Indicator rows are `log [x_c == k]` (0 or -inf); continuous rows `log f(x_c; loc, scale)`. An
unobserved variable's leaves give log 1 = 0 (`marginalize="sum"`, summing it out), or for
max-product MPE the log-density at the leaf's mode (`"max"`; an indicator's mode value is 1).
"""
import tensorflow as tf

from spnlab.core.ops.checks import after, check_real_dtype
from spnlab.graph.data import check_data

NEG_INF = float("-inf")
MARGINALIZE = ("sum", "max")


def extend_columns(columns, x, mask=None):
    """Data `[B, C]` or `[B, C + L]` (and mask) -> float32 `[B, C + L]` and bool mask, the
    latent columns not given unobserved. Eagerly, the data is checked (`data.check_data`);
    in a traced function, bad observed values fail an assertion."""
    full = len(columns.variables)
    if tf.executing_eagerly():
        data = check_data(columns, x, mask)
        return tf.constant(data.x), tf.constant(data.mask)
    x = tf.convert_to_tensor(x)
    check_real_dtype(x, "x")                   # a complex cast would drop the imaginary part
    x = tf.cast(x, tf.float32)
    mask = tf.ones_like(x, tf.bool) if mask is None else tf.cast(mask, tf.bool)
    widths = (len(columns.data), full)
    if x.shape[-1] is not None and x.shape[-1] not in widths:
        raise ValueError(f"Expected `x` with {widths[0]} or {full} columns. "
                         f"Received: x.shape={tuple(x.shape)}")
    width = tf.shape(x)[1]                       # Keras may retrace with an unknown width
    checks = [tf.debugging.Assert(
        tf.logical_or(tf.equal(width, widths[0]), tf.equal(width, full)),
        [f"Expected `x` with {widths[0]} or {full} columns. Received:", width])]
    extra = tf.stack([tf.shape(x)[0], full - width])
    x = tf.reshape(tf.concat([x, tf.zeros(extra, x.dtype)], axis=1), [-1, full])
    mask = tf.reshape(tf.concat([mask, tf.zeros(extra, tf.bool)], axis=1), [-1, full])
    checks += _assert_valid(columns, x, mask)
    # everything computed from the data (an optimiser's update) waits for the checks
    return after(checks, tf.where(mask, x, 0.0)), mask


def _assert_valid(columns, x, mask):
    """Traced counterpart of `check_data`: the assertions that fail on bad data."""
    ok = tf.logical_or(tf.abs(x) < float("inf"), tf.logical_not(mask))
    checks = [tf.debugging.Assert(tf.reduce_all(ok), [
        "Expected finite `x` values where observed. Received:", tf.boolean_mask(x, ~ok)[:1]])]
    discrete = [(c, v.num_vals) for c, v in enumerate(columns.variables)
                if v.num_vals is not None]
    if discrete:
        cols, num_vals = zip(*discrete)
        values = tf.gather(x, list(cols), axis=1)                        # [B, Cd]
        in_range = (tf.equal(values, tf.round(values)) & (values >= 0.0)
                    & (values < tf.constant(num_vals, tf.float32)))
        ok = tf.logical_or(in_range, tf.logical_not(tf.gather(mask, list(cols), axis=1)))
        checks.append(tf.debugging.Assert(tf.reduce_all(ok), [
            "Expected `x` values of discrete variables to be integers in [0, num_vals). "
            "Received:", tf.boolean_mask(values, ~ok)[:1]]))
    return checks


def leaf_log_values(layout, params, x, mask, marginalize="sum"):
    """Log-values of all leaf outputs, `[layout.size, B]` (indicator rows, then continuous rows).

    Args:
        layout: `plan.LeafLayout`.
        params: `leaf_params.LocationScaleParameters` of the layout's continuous leaves.
        x: float32 `[B, C]` data of all columns (unobserved entries finite, e.g. 0).
        mask: bool `[B, C]`, True where observed.
        marginalize: "sum" or "max" (see the module docstring).
    """
    if marginalize not in MARGINALIZE:
        raise ValueError(f"Expected `marginalize` in {MARGINALIZE}. "
                         f"Received: marginalize={marginalize!r}")
    # The mask is transposed as floats: oneDNN logs an ERROR line for a bool transpose. Made
    # with `where`, not a cast, since Grappler moves a cast below a transpose (and back to bool).
    x_t = tf.transpose(x)                                                # [C, B]
    mask_t = tf.transpose(tf.where(mask, 1.0, 0.0)) > 0.5                # [C, B]
    parts = []
    if len(layout.indicator_cols):
        values = tf.gather(x_t, layout.indicator_cols)                   # [Li, B]
        hit = tf.equal(values, layout.indicator_vals[:, None])
        observed = tf.gather(mask_t, layout.indicator_cols)
        parts.append(tf.where(observed & ~hit, NEG_INF, 0.0))            # [Li, B]
    if len(layout.continuous_cols):
        values = tf.gather(x_t, layout.continuous_cols)                  # [Lc, B]
        log_p = params.log_prob(values)                                  # [Lc, B]
        fill = params.log_mode_density() if marginalize == "max" else 0.0
        observed = tf.gather(mask_t, layout.continuous_cols)
        parts.append(tf.where(observed, log_p, fill + tf.zeros_like(log_p)))
    return parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)
