"""Running a layer SPN on data with evidence, a chosen sum op, and the signal at the leaves.

All queries go through `run_to_leaves`: a forward pass over the model's layers in order (the
leaf layer gets the evidence mask), then, if asked, the backward signal of the root with respect
to the leaf log-densities under a temporary sum op. This is LibSPN-Keras' "backprop to the leaves"
inference, made a free function that never changes the model.
"""
import contextlib
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf
from spnlab.core.layers.fusion import call_step, fused_steps
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.misc import NormalizeStandardScore
from spnlab.core.layers.sum_layers import RootSum, SumLayerBase
from spnlab.core.ops.logspace import logsumexp


class LeafPass(NamedTuple):
    """What a pass to the leaves returns.

    Attributes:
        log_value: root log-value per sample `[B]`.
        leaf_signal: d(sum_b log-value)/d(leaf log-densities) `[B, S, D, K]`, or None.
        leaf: the leaf layer.
        leaf_input: what the leaf received `[B, S, D, V]`.
        normalizer: the NormalizeStandardScore layer before the leaf, if any.
        stats: that layer's `(mean, stddev)` for the batch, if any.
    """

    log_value: tf.Tensor
    leaf_signal: Optional[tf.Tensor]
    leaf: BaseLeaf
    leaf_input: tf.Tensor
    normalizer: Optional[NormalizeStandardScore]
    stats: Optional[tuple]


def model_layers(model):
    layers = list(getattr(model, "layers", model))
    if not layers:
        raise ValueError(f"Expected a model with layers. Received: model={model!r}")
    return layers


def find_leaf(model):
    for layer in model_layers(model):
        if isinstance(layer, BaseLeaf):
            return layer
    raise ValueError(f"Expected a model with a leaf layer (e.g. IndicatorLeaf). Received: {model!r}")


def num_variables(model):
    """The number of variables the model's first layer expects (from its built input shape)."""
    shape = _input_shape(model)
    return None if shape is None else shape[1]


def _input_shape(model):
    try:
        return tuple(model.inputs[0].shape)
    except (AttributeError, ValueError, TypeError, IndexError):
        first = model_layers(model)[0]
        return getattr(first, "_build_shapes_dict", None) and tuple(
            next(iter(first._build_shapes_dict.values())))


@contextlib.contextmanager
def temporary_sum_op(model, sum_op):
    """Within the block every sum layer uses `sum_op` and the root returns `[B, 1]`.

    Restores the layers' own ops afterwards, also on error. Accumulators are not converted:
    inference needs only the (normalised) forward pass and the child signals.
    """
    sum_layers = [l for l in model_layers(model) if isinstance(l, SumLayerBase)]
    saved = [(l, l.sum_op, getattr(l, "return_weighted_child_logits", None)) for l in sum_layers]
    try:
        if sum_op is not None:
            for layer in sum_layers:
                layer.sum_op = sum_op
                if isinstance(layer, RootSum):
                    layer.return_weighted_child_logits = False
        yield
    finally:
        for layer, op, rwcl in saved:
            layer.sum_op = op
            if rwcl is not None:
                layer.return_weighted_child_logits = rwcl


def check_data(model, x, evidence_mask=None, arg_name="x"):
    """Validate query inputs; returns `(x, mask)` as tensors (mask None when not given).

    NaN is allowed only where `evidence_mask` is False (unobserved); it is replaced by 0 there.
    """
    if isinstance(x, tf.Tensor):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"Expected `{arg_name}` to hold numbers. Received dtype {x.dtype}")
    n_vars = num_variables(model)
    if x.ndim < 2 or (n_vars is not None and x.shape[1] != n_vars):
        raise ValueError(f"Expected `{arg_name}` of shape [batch, {n_vars}]. "
                         f"Received: {arg_name}.shape={x.shape}")
    mask = None
    if evidence_mask is not None:
        mask = np.asarray(evidence_mask)
        if mask.dtype != bool:
            raise TypeError(f"Expected `evidence_mask` of dtype bool. Received dtype {mask.dtype}")
        if mask.shape != x.shape[:mask.ndim] or mask.ndim < 2:
            raise ValueError(f"Expected `evidence_mask` of shape {x.shape[:2]}. "
                             f"Received: evidence_mask.shape={mask.shape}")
    if np.issubdtype(x.dtype, np.floating):
        observed = (np.ones(x.shape, bool) if mask is None else
                    np.broadcast_to(mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim)), x.shape))
        bad = ~np.isfinite(x) & observed
        if bad.any():
            raise ValueError(f"Expected finite `{arg_name}` values where observed. Received NaN or "
                             f"inf at index {tuple(int(i) for i in np.argwhere(bad)[0])}")
        x = np.where(np.isfinite(x), x, 0).astype(x.dtype)
        # Discrete leaves read integer states; a float 0.5 would be cast to 0 without a word.
        leaf = find_leaf(model)
        if isinstance(leaf, (IndicatorLeaf, CategoricalLeaf)):
            frac = (x != np.round(x)) & observed
            if frac.any():
                idx = tuple(int(i) for i in np.argwhere(frac)[0])
                raise ValueError(f"Expected integer values in `{arg_name}` ({type(leaf).__name__} "
                                 f"data). Received: {arg_name}{list(idx)}={x[idx]}")
    return tf.convert_to_tensor(x), None if mask is None else tf.convert_to_tensor(mask)


def _leaf_mask(mask, leaf_input):
    """Broadcast a `[B, V]` (or `[B, V, dim]`) evidence mask to the leaf input `[B, S, D, V']`."""
    if mask is None:
        return None
    m = tf.convert_to_tensor(mask)
    if len(m.shape) == 2:
        m = m[:, :, None, None]
    elif len(m.shape) == 3:
        m = tf.reduce_all(m, axis=-1)[:, :, None, None]
    return m


def run_to_leaves(model, x, evidence_mask=None, sum_op=None, marginalize="sum", signal=True):
    """Forward pass with evidence, and optionally the root's signal at the leaf log-densities.

    Args:
        model: a layer SPN (a `SequentialSumProductNetwork` or any list of layers).
        x: data `[B, V]` (tensor, already checked).
        evidence_mask: bool `[B, V]`, True = observed; None = all observed.
        sum_op: the sum op for the backward pass (None: the layers' own).
        marginalize: "sum" (unobserved leaves give 1) or "max" (their mode's density).
        signal: whether to compute the leaf signal.
    """
    leaf = normalizer = stats = leaf_input = leaf_out = None
    with temporary_sum_op(model, sum_op), tf.GradientTape(watch_accessed_variables=False) as tape:
        h = x
        for layer in fused_steps(model_layers(model), getattr(model, "fuse_products", True)):
            if isinstance(layer, BaseLeaf):
                leaf, leaf_input = layer, h
                h = layer(h, evidence_mask=_leaf_mask(evidence_mask, h), marginalize=marginalize)
                tape.watch(h)
                leaf_out = h
            elif isinstance(layer, NormalizeStandardScore) and leaf is None:
                normalizer = layer
                h, mean, std = layer(h, return_stats=True)
                stats = (mean, std)
            else:
                h = call_step(layer, h, training=False)
        log_value = logsumexp(h, axis=-1) if len(h.shape) == 2 else tf.reshape(h, [-1])
        total = tf.reduce_sum(log_value)
    if leaf is None:
        raise ValueError("Expected a model with a leaf layer. Received a model without one.")
    grad = tape.gradient(total, leaf_out) if signal else None
    return LeafPass(log_value, grad, leaf, leaf_input, normalizer, stats)
