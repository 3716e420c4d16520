"""Running a layer SPN on data with evidence, a chosen sum op, and the signal at the leaves.

All queries go through `run_to_leaves`: a forward pass over the model's layers in order (the
leaf layer gets the evidence mask), then, if asked, the backward signal of the root with respect
to the leaf log-densities under a temporary sum op. This is LibSPN-Keras' "backprop to the leaves"
inference, made a free function that never changes the model.

Two data layouts (`is_spatial`):

- Region models (`FlatToRegions` before the leaf): data `[B, V]` (or `[B, V, dim]`), one
  variable per index of axis 1; an evidence mask is `[B, V]` (or `[B, V, dim]`, a variable
  observed only where all its dims are).
- Spatial models (DGC-SPNs: a 4-D model input and no `FlatToRegions` before the leaf): data
  `[B, H, W, C]`. The variables are the H * W pixels, each with C values that every leaf
  component models jointly (for C == 1 the variables are simply the pixels), so
  `num_variables` is H * W. An evidence mask is per pixel: `[B, H, W]`, `[B, H, W, 1]` or
  `[B, H, W, C]`; the last must be the same for all channels of a pixel (a leaf cannot
  marginalise one channel of a pixel), else a ValueError. Checked masks are `[B, H, W, 1]`.
"""
import contextlib
import threading
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf
from spnlab.core.layers.fusion import call_step, fused_steps
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.misc import NormalizeStandardScore
from spnlab.core.layers.regions import FlatToRegions
from spnlab.core.layers.sum_layers import RootSum, SumLayerBase
from spnlab.core.ops.logspace import logsumexp
from spnlab.core.ops.functions import own_function


class LeafPass(NamedTuple):
    """What a pass to the leaves returns.

    Attributes:
        log_value: root log-value per sample `[B]`.
        leaf_signal: d(sum_b log-value)/d(leaf log-densities) `[B, S, D, K]`, or None.
        leaf: the leaf layer.
        leaf_input: what the leaf received `[B, S, D, V]`.
        normalizer: the NormalizeStandardScore layer before the leaf, if any.
        stats: that layer's `(mean, stddev)` for the batch, if any.
        spatial: whether the model is spatial: then the leaf signal is `[B, H, W, K]` and the
            leaf input the data itself `[B, H, W, C]`.
    """

    log_value: tf.Tensor
    leaf_signal: Optional[tf.Tensor]
    leaf: BaseLeaf
    leaf_input: tf.Tensor
    normalizer: Optional[NormalizeStandardScore]
    stats: Optional[tuple]
    spatial: bool = False


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


def is_spatial(model):
    """True for a spatial model: a 4-D input `[B, H, W, C]` and no `FlatToRegions` before
    the leaf (the leaf reads the image itself, as in a DGC-SPN)."""
    shape = _input_shape(model)
    if shape is None or len(shape) != 4:
        return False
    for layer in model_layers(model):
        if isinstance(layer, FlatToRegions):
            return False
        if isinstance(layer, BaseLeaf):
            return True
    return False


def data_shape(model):
    """The shape of one sample of the model's data, without the batch axis (None if unknown):
    `(V,)` (or `(V, dim)`) for a region model, `(H, W, C)` for a spatial one."""
    shape = _input_shape(model)
    return None if shape is None else tuple(shape[1:])


def num_variables(model):
    """The number of variables the model expects (from its built input shape): V for a region
    model, H * W (the pixels) for a spatial one; None if unknown."""
    shape = _input_shape(model)
    if shape is None:
        return None
    if is_spatial(model):
        rows, cols = shape[1], shape[2]
        return None if rows is None or cols is None else rows * cols
    return shape[1]


def empty_data(model, num_samples):
    """All-unobserved data for `num_samples` draws: zeros `[n, *data_shape]` (int32 for
    discrete leaves, else float32) and an all-False evidence mask of the same shape."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples < 1:
        raise ValueError(f"Expected the number of rows (`num_samples`, `size`) to be a positive "
                         f"int. Received: {num_samples!r}")
    shape = data_shape(model)
    if shape is None or any(d is None for d in shape):
        raise ValueError("Expected a model with a known input shape to draw data without `x`. "
                         f"Received a model with input shape {_input_shape(model)}")
    dtype = "int32" if isinstance(find_leaf(model), (IndicatorLeaf, CategoricalLeaf)) \
        else "float32"
    x = np.zeros((int(num_samples),) + tuple(shape), dtype=dtype)
    return x, np.zeros(x.shape, dtype=bool)


def _input_shape(model):
    try:
        return tuple(model.inputs[0].shape)
    except (AttributeError, ValueError, TypeError, IndexError):
        first = model_layers(model)[0]
        return getattr(first, "_build_shapes_dict", None) and tuple(
            next(iter(first._build_shapes_dict.values())))


@contextlib.contextmanager
def temporary_sum_op(model, sum_op):
    """Within the block every sum layer uses `sum_op` (None: its own) and the root returns
    `[B, 1]`.

    The root always returns `[B, 1]` here, also with `sum_op=None`, so that the root's own sum
    op routes the signal (a sampled or hard-EM child) instead of a soft log-sum-exp over its
    weighted child logits outside the model. Restores the layers' ops and flags afterwards,
    also on error. Accumulators are not converted: inference needs only the (normalised)
    forward pass and the child signals.
    """
    sum_layers = [l for l in model_layers(model) if isinstance(l, SumLayerBase)]
    with model_lock(model):
        yield from _swapped_ops(sum_layers, sum_op)


def model_lock(model):
    """A re-entrant lock per model, held while queries swap the layers' ops and while another
    thread traces a training step of the model (`spnlab.lab`'s trace-ahead), so that a trace
    never captures a query's op."""
    attributes = getattr(model, "__dict__", None)
    if attributes is None:                          # a plain list of layers
        return contextlib.nullcontext()
    return attributes.setdefault("_spnlab_ops_lock", threading.RLock())


def _swapped_ops(sum_layers, sum_op):
    saved = [(l, l.sum_op, getattr(l, "return_weighted_child_logits", None)) for l in sum_layers]
    try:
        for layer in sum_layers:
            if sum_op is not None:
                layer.sum_op = sum_op
            if isinstance(layer, RootSum):
                layer.return_weighted_child_logits = False
        yield
    finally:
        for layer, op, rwcl in saved:
            layer.sum_op = op
            if rwcl is not None:
                layer.return_weighted_child_logits = rwcl


def _check_spatial_x(model, x, arg_name):
    expected = data_shape(model)
    if x.ndim != 4 or any(e is not None and e != d for e, d in zip(expected, x.shape[1:])):
        dims = ", ".join("None" if d is None else str(d) for d in expected)
        raise ValueError(f"Expected `{arg_name}` of shape [batch, {dims}] (images [batch, rows, "
                         f"cols, channels]). Received: {arg_name}.shape={x.shape}")


def _check_spatial_mask(x, mask, mask_name):
    """A per-pixel mask `[B, H, W]`, `[B, H, W, 1]` or `[B, H, W, C]` as `[B, H, W, 1]`."""
    pixels, chans = x.shape[:3], x.shape[3]
    allowed = [pixels, pixels + (1,)] + ([x.shape] if chans != 1 else [])
    if mask.shape not in allowed:
        shown = ", ".join(str(a) for a in allowed[:-1]) + f" or {allowed[-1]}"
        raise ValueError(f"Expected `{mask_name}` of shape {shown} (per pixel). "
                         f"Received: {mask_name}.shape={mask.shape}")
    if mask.ndim == 3:
        return mask[..., None]
    if mask.shape[3] > 1:
        mixed = mask.any(axis=3) != mask.all(axis=3)
        if mixed.any():
            idx = tuple(int(i) for i in np.argwhere(mixed)[0])
            raise ValueError(
                f"Expected `{mask_name}` to observe all or none of the {chans} channels of a "
                f"pixel (a leaf models a pixel's channels jointly). Received: "
                f"{mask_name}[{', '.join(map(str, idx))}, :]={mask[idx].tolist()}")
        return mask[..., :1]
    return mask


def check_mask(model, x, evidence_mask, mask_name="evidence_mask"):
    """Validate an evidence mask (bool, True = observed) against checked data `x` (numpy).

    Region models: `[B, V]` (or `[B, V, dim]`), returned as given. Spatial models: see the
    module docstring, returned as `[B, H, W, 1]`.
    """
    mask = np.asarray(evidence_mask)
    if mask.dtype != bool:
        raise TypeError(f"Expected `{mask_name}` of dtype bool. Received dtype {mask.dtype}")
    if is_spatial(model):
        return _check_spatial_mask(x, mask, mask_name)
    if mask.shape != x.shape[:mask.ndim] or mask.ndim < 2:
        raise ValueError(f"Expected `{mask_name}` of shape {x.shape[:2]}. "
                         f"Received: {mask_name}.shape={mask.shape}")
    return mask


def check_data(model, x, evidence_mask=None, arg_name="x", mask_name="evidence_mask"):
    """Validate query inputs; returns `(x, mask)` as tensors (mask None when not given).

    NaN is allowed only where `evidence_mask` is False (unobserved); it is replaced by 0 there.
    Region models take `x [B, V]`, spatial ones `x [B, H, W, C]` (the model's input shape);
    the mask of a spatial model comes back as `[B, H, W, 1]` (see `check_mask`).
    """
    if isinstance(x, tf.Tensor):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == object or np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.number)
                                                       or x.dtype == bool):
        # complex: a cast to float would drop the imaginary part without a word
        raise TypeError(f"Expected `{arg_name}` to hold numbers. Received dtype {x.dtype}")
    if is_spatial(model):
        _check_spatial_x(model, x, arg_name)
    else:
        n_vars = num_variables(model)
        if x.ndim < 2 or (n_vars is not None and x.shape[1] != n_vars):
            raise ValueError(f"Expected `{arg_name}` of shape [batch, {n_vars}]. "
                             f"Received: {arg_name}.shape={x.shape}")
    mask = None
    if evidence_mask is not None:
        mask = check_mask(model, x, evidence_mask, mask_name)
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
    if mask is not None:
        # Unobserved entries may hold anything (e.g. a -1 "missing" marker); the leaves check
        # every value they are given, so they get 0 there.
        observed = np.broadcast_to(mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim)),
                                   x.shape)
        x = np.where(observed, x, np.zeros((), x.dtype))
    return tf.convert_to_tensor(x), None if mask is None else tf.convert_to_tensor(mask)


def _leaf_mask(mask, leaf_input, spatial=False):
    """Broadcast a `[B, V]` (or `[B, V, dim]`) evidence mask to the leaf input `[B, S, D, V']`;
    for a spatial model a per-pixel mask (`[B, H, W]` or `[B, H, W, 1 | C]`) to `[B, H, W, 1]`."""
    if mask is None:
        return None
    m = tf.convert_to_tensor(mask)
    if spatial:
        return m[..., None] if len(m.shape) == 3 else tf.reduce_all(m, axis=-1, keepdims=True)
    if len(m.shape) == 2:
        m = m[:, :, None, None]
    elif len(m.shape) == 3:
        m = tf.reduce_all(m, axis=-1)[:, :, None, None]
    return m


# Compiled query passes (see `compiled_queries`): off unless a caller turns them on.
_COMPILE = threading.local()


@contextlib.contextmanager
def compiled_queries(enabled=True):
    """Within the block, the queries' passes to the leaves run as `tf.function`s, traced once
    per model, query op, evidence layout and the layers' ops (then ~10x faster than eager for a
    teaching-size model; the first call of each kind pays the trace). Results equal the eager
    ones: a query op's random generator is handed to the traced op's state before each call and
    its state back after, so seeded queries draw the same numbers. Used by `spnlab.lab.Session`,
    which queries the same model again and again; one-off queries are faster eager."""
    previous = getattr(_COMPILE, "enabled", False)
    _COMPILE.enabled = bool(enabled)
    try:
        yield
    finally:
        _COMPILE.enabled = previous


def run_to_leaves(model, x, evidence_mask=None, sum_op=None, marginalize="sum", signal=True):
    """Forward pass with evidence, and optionally the root's signal at the leaf log-densities.

    Args:
        model: a layer SPN (a `SequentialSumProductNetwork` or any list of layers).
        x: data `[B, V]` (`[B, H, W, C]` for a spatial model; tensor, already checked).
        evidence_mask: bool `[B, V]` (spatial: `[B, H, W, 1]`), True = observed; None = all
            observed.
        sum_op: the sum op for the backward pass (None: the layers' own).
        marginalize: "sum" (unobserved leaves give 1) or "max" (their mode's density).
        signal: whether to compute the leaf signal.
    """
    spatial = is_spatial(model)
    leaf, normalizer = _leaf_and_normalizer(model)
    if getattr(_COMPILE, "enabled", False):
        outputs = _compiled_pass(model, x, evidence_mask, sum_op, marginalize, signal, spatial)
    else:
        outputs = _pass(model, x, evidence_mask, sum_op, marginalize, signal, spatial)
    log_value, grad, leaf_input, stats = outputs
    return LeafPass(log_value, grad, leaf, leaf_input, normalizer, stats, spatial)


def _leaf_and_normalizer(model):
    leaf = normalizer = None
    for layer in model_layers(model):
        if isinstance(layer, BaseLeaf):
            leaf = layer
            break
        if isinstance(layer, NormalizeStandardScore):
            normalizer = layer
    if leaf is None:
        raise ValueError("Expected a model with a leaf layer. Received a model without one.")
    return leaf, normalizer


def _pass(model, x, evidence_mask, sum_op, marginalize, signal, spatial):
    """`(log_value [B], leaf signal or None, leaf input, normaliser stats or None)`."""
    stats = leaf_input = leaf_out = None
    with temporary_sum_op(model, sum_op), tf.GradientTape(watch_accessed_variables=False) as tape:
        h = x
        for layer in fused_steps(model_layers(model), getattr(model, "fuse_products", True)):
            if isinstance(layer, BaseLeaf):
                leaf_input = h
                h = layer(h, evidence_mask=_leaf_mask(evidence_mask, h, spatial),
                          marginalize=marginalize)
                tape.watch(h)
                leaf_out = h
            elif isinstance(layer, NormalizeStandardScore) and leaf_out is None:
                h, mean, std = layer(h, return_stats=True)
                stats = (mean, std)
            else:
                h = call_step(layer, h, training=False)
        log_value = logsumexp(h, axis=-1) if len(h.shape) == 2 else tf.reshape(h, [-1])
        total = tf.reduce_sum(log_value)
    grad = tape.gradient(total, leaf_out) if signal else None
    return log_value, grad, leaf_input, stats


def _op_key(op):
    if op is None:
        return None
    config = {k: v for k, v in op.get_config().items() if k != "seed"}
    return type(op).__name__, tuple(sorted(config.items()))


def _compiled_pass(model, x, evidence_mask, sum_op, marginalize, signal, spatial):
    """`_pass` through a `tf.function` cached on the model (see `compiled_queries`)."""
    if not hasattr(model, "__dict__"):                # a plain list of layers: no cache
        return _pass(model, x, evidence_mask, sum_op, marginalize, signal, spatial)
    cache = model.__dict__.setdefault("_spnlab_query_passes", {})
    # A query op replaces every layer's op, so then only the accumulator spaces (read at trace
    # time) matter; with the layers' own ops (sum_op None) the ops themselves do.
    layers = tuple((id(l.sum_op) if sum_op is None else None,
                    getattr(l, "logspace_accumulators", None))
                   for l in model_layers(model) if isinstance(l, SumLayerBase))
    mask = None if evidence_mask is None else tf.convert_to_tensor(evidence_mask)
    key = (_op_key(sum_op), marginalize, signal, x.dtype, tuple(x.shape[1:]),
           None if mask is None else tuple(mask.shape[1:]), layers)
    if key not in cache:
        op = sum_op                                   # the op the trace captures, kept with it
        spec = [tf.TensorSpec([None, *x.shape[1:]], x.dtype)]
        if mask is not None:
            spec.append(tf.TensorSpec([None, *mask.shape[1:]], mask.dtype))

        def traced(x, *mask):
            return _pass(model, x, mask[0] if mask else None, op, marginalize, signal, spatial)

        cache[key] = (op, own_function(traced, input_signature=spec, autograph=False))
    op, fn = cache[key]
    generator = getattr(sum_op, "_generator", None)
    if generator is not None and op is not sum_op:
        op._generator.reset(generator.state)
    outputs = fn(x, *([] if mask is None else [mask]))
    if generator is not None and op is not sum_op:
        generator.reset(op._generator.state)
    return outputs
