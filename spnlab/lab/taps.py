"""Signal taps computed inside the compiled training step (TensorFlow side).

For every tapped layer a step records, before the weights change:
- `forward`: statistics of the layer's output log-values over the batch: mean / min / max of the
  finite values, the fraction that is -inf, a histogram over [min, max], and the per-node mean
  `node_mean` (`[S, D, N]`, finite values only; -inf where a node is -inf for every row).
- `signal_out`: the signal arriving at the layer's output (d loss / d output, loss = mean NLL).
- `signal_in`: the signal the layer passes to its input. For a sum layer fused with the product
  below it (the default) that is the signal at the product's input; tap unfused for the other.
- for sum layers, `weight_signal`, what the current op hands the optimiser for the accumulators
  `[S, D, I, O]`, and `counts`, the child-selection counts: -B times the signal at the
  normalised log-weights. For hard EM / unweighted / sample ops that signal *is* the weight
  signal, and the counts are the winner counts; for soft EM the expected (posterior) counts;
  for the gradient op they are the same expected counts, recovered from the exact gradient by
  undoing the normalisation's vector-Jacobian product (see `selection_counts`).
"""
from dataclasses import dataclass
from typing import NamedTuple, Optional

import tensorflow as tf

from spnlab.core.layers.sum_layers import RootSum


@dataclass(frozen=True)
class TapPoint:
    """A tapped computation step: its index among the steps, layer key and kind."""

    step_index: int
    key: str
    kind: str
    layer: object


class RawTap(NamedTuple):
    """One layer's taps as the traced step returns them (tensors, numpy after the step); the
    session turns it into a `tap_records.LayerTap`. Fields as in the module docstring; None
    where the layer has no such signal."""

    forward: dict
    signal_out: Optional[dict] = None
    signal_in: Optional[dict] = None
    weight_signal: Optional[object] = None
    counts: Optional[object] = None
    values: Optional[object] = None


def raw_tap(h, bins, signal_out=None, signal_in=None, weight_signal=None, counts=None,
            keep_values=False):
    """The `RawTap` of a layer with output log-values `h`: its forward statistics, the
    `signal_stats` of the signals at its output and input (or None), the weight signal and
    counts of a sum layer, and `h` itself with `keep_values`. The one place a step's taps are
    assembled (layer models and node graphs alike)."""
    return RawTap(forward=forward_stats(h, bins), signal_out=signal_out, signal_in=signal_in,
                  weight_signal=weight_signal, counts=counts,
                  values=h if keep_values else None)


def forward_stats(h, bins):
    """Statistics of log-values `h` `[B, ...]` (dict of scalar / small tensors).

    Masked reductions rather than `boolean_mask`: fewer ops to trace, no dynamic shapes.
    Finite means `|h| < inf` (False for +-inf and NaN, as `tf.math.is_finite`): where `h` is a
    transposed layer output, Grappler moves an `IsFinite` in front of the transpose, and
    TensorFlow's oneDNN build then logs an ERROR line ("oneDNN supports DT_BOOL only on
    platforms with AVX-512") for the resulting transpose of booleans.
    """
    inf = tf.constant(float("inf"), h.dtype)
    finite = tf.abs(h) < inf
    count = tf.reduce_sum(tf.cast(finite, h.dtype))
    lo = tf.reduce_min(tf.where(finite, h, inf))
    hi = tf.reduce_max(tf.where(finite, h, -inf))
    lo = tf.where(count > 0, lo, 0.0)
    hi_range = tf.where(hi > lo, hi, lo + 1.0)
    # Non-finite entries are counted into the first bin at `lo`, then taken out again.
    hist = tf.histogram_fixed_width(tf.where(finite, h, lo), tf.stack([lo, hi_range]), nbins=bins)
    hist = hist - tf.one_hot(0, bins, dtype=hist.dtype) * tf.cast(tf.size(h, hist.dtype) -
                                                                   tf.cast(count, hist.dtype),
                                                                   hist.dtype)
    h0 = tf.where(finite, h, 0.0)
    per_node = tf.reduce_sum(h0, axis=0)
    n_per_node = tf.reduce_sum(tf.cast(finite, h.dtype), axis=0)
    nan = tf.constant(float("nan"), h.dtype)
    return {
        "mean": tf.where(count > 0, tf.reduce_sum(per_node) / tf.maximum(count, 1.0), nan),
        "min": tf.where(count > 0, lo, nan),
        "max": tf.where(count > 0, hi, nan),
        "neg_inf_fraction": 1.0 - count / tf.cast(tf.size(h), h.dtype),
        "hist": hist,
        "hist_range": tf.stack([lo, hi_range]),
        "node_mean": tf.where(n_per_node > 0, per_node / tf.maximum(n_per_node, 1.0), -inf),
    }


def signal_stats(g):
    """Statistics of a backward signal `g` `[B, ...]`; `node_sum` is the batch sum per node."""
    return {
        "sum": tf.reduce_sum(g),
        "abs_mean": tf.reduce_mean(tf.abs(g)),
        "min": tf.reduce_min(g),
        "max": tf.reduce_max(g),
        "nonzero_fraction": tf.reduce_mean(tf.cast(tf.not_equal(g, 0.0), tf.float32)),
        "node_sum": tf.reduce_sum(g, axis=0),
    }


def per_sum_signal(layer, dy):
    """The signal each sum received, summed over the batch, as `[S, D, 1, O]`."""
    if isinstance(layer, RootSum):
        return tf.reshape(tf.reduce_sum(dy), [1, 1, 1, 1])
    return tf.reduce_sum(dy, axis=0)[:, :, None, :]


def selection_counts(layer, weight_signal, dy, batch_size):
    """Child-selection counts `[S, D, I, O]` of a sum layer for one batch.

    `g` is the signal at the normalised log-weights l: sum_b dy_bj p_bij for the soft ops, the
    winner indicator sums for the hard ones. EM ops hand `g` to the optimiser unchanged. The
    gradient op hands on the vector-Jacobian product of l(a) instead; since
    sum_i g_ij = sum_b dy_bj =: G_j (posteriors sum to one), it can be undone exactly:
        log-space a, l = a - logsumexp(a):  vjp = g - softmax(a) G  =>  g = vjp + w G
        linear a,    l = log a - log sum a: vjp = g / a - G / sum a =>  g = a (vjp + G / sum a)
    With the mean NLL loss the root signal is -1/B, so counts = -B g.
    """
    g = weight_signal
    if layer.sum_op.chain_to_accumulators:
        acc = tf.convert_to_tensor(layer.accumulators)
        total = per_sum_signal(layer, dy)                                     # [S, D, 1, O]
        if layer.logspace_accumulators:
            g = weight_signal + tf.nn.softmax(acc, axis=-2) * total
        else:
            g = acc * (weight_signal + total / tf.reduce_sum(acc, axis=-2, keepdims=True))
    return -tf.cast(batch_size, g.dtype) * g
