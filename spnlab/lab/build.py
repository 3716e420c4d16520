"""Building the session's model from its config, and stable keys for the layers of any model.

Keras names layers with process-wide counters (`dense_sum_7` in the third model built), so the
lab names them by position instead: `leaf`, sum layers `S1`, `S2`, ... from the bottom up (the
root is the last), product layers `P1`, `P2`, .... Keys are the same in every session built from
the same config, which is what checkpoints, comparisons and views need.
"""
from dataclasses import dataclass

import keras
import numpy as np

import spnlab.core as spnk
from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf
from spnlab.core.layers.location_scale import NormalLeaf
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.products import DenseProduct, ReduceProduct
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopes
from spnlab.core.layers.spatial import SpatialToRegions
from spnlab.core.layers.spatial_products import Conv2DProduct
from spnlab.core.layers.spatial_sums import Local2DSum
from spnlab.core.layers.sum_layers import DenseSum, RootSum, SumLayerBase
from spnlab.core.models.region_graph import region_graph_permutation
from spnlab.lab.ops import make_op


@dataclass(frozen=True)
class LayerEntry:
    """One layer of interest: `key`, the Keras `layer`, `kind` ("leaf", "sum", "product") and
    `position` (index in `model.layers`)."""

    key: str
    layer: object
    kind: str
    position: int


def layer_entries(model):
    """The leaf, sum and product layers of a layer model with their keys, in model order (a
    node graph's single entry: `spnlab.lab.trainable.GraphTrainable`)."""
    entries, counts = [], {"sum": 0, "product": 0}
    for position, layer in enumerate(model.layers):
        if isinstance(layer, SumLayerBase):
            counts["sum"] += 1
            entries.append(LayerEntry(f"S{counts['sum']}", layer, "sum", position))
        elif isinstance(layer, (DenseProduct, ReduceProduct)):
            counts["product"] += 1
            entries.append(LayerEntry(f"P{counts['product']}", layer, "product", position))
        elif isinstance(layer, BaseLeaf):
            entries.append(LayerEntry("leaf", layer, "leaf", position))
    if not any(e.kind == "sum" for e in entries):
        raise ValueError(f"Expected a model with sum layers. Received: model={model!r}")
    return entries


def input_layers(config, num_vals, op, spatial=False):
    """`(input dtype, layers)` that give every variable `num_input_distributions` input
    distributions, by `config.leaf`:

        "indicator"    IndicatorLeaf(num_vals) and a DenseSum (Local2DSum when `spatial`) of
                       num_input_distributions: categorical distributions whose parameters
                       are sum weights, learned by the sum ops;
        "categorical"  CategoricalLeaf(num_input_distributions, num_vals), learned by EM;
        "normal"       NormalLeaf(num_input_distributions) of the values, locations spread
                       over 0..num_vals-1 from `seed`, learned (with their scales) by EM.
    """
    k = config.num_input_distributions
    if config.leaf == "indicator":
        sums = Local2DSum(k, sum_op=op) if spatial else DenseSum(k, sum_op=op)
        return "int32", [IndicatorLeaf(num_vals), sums]
    if config.leaf == "categorical":
        return "int32", [CategoricalLeaf(k, num_categories=num_vals, use_accumulators=True)]
    top = float(max(num_vals - 1, 1))
    return "float32", [NormalLeaf(
        k, location_initializer=keras.initializers.RandomUniform(0.0, top, seed=config.seed),
        scale_initializer=keras.initializers.Constant(top / 4), use_accumulators=True,
        scale_trainable=True)]


def build_ratspn(config, num_vars, sum_op_spec, num_vals=2):
    """The config's RAT-SPN with every sum layer on `sum_op_spec`, weights ~ Dirichlet(alpha).

    The core's seeded Dirichlet initializer draws every layer from the same seed (layers of
    equal shape would start equal), so the weights are drawn here from one generator, layer by
    layer, from `config.seed`.
    """
    op = make_op(sum_op_spec, 0)
    leaf = None if config.leaf == "indicator" else input_layers(config, num_vals, op)[1][0]
    model = spnk.ratspn(num_vars, depth=config.depth, num_repetitions=config.num_repetitions,
                        num_input_distributions=config.num_input_distributions,
                        num_sums=config.num_sums, sum_op=op, seed=config.seed, leaf=leaf,
                        num_vals=num_vals)
    model.build((None, num_vars))
    _init_dirichlet(model, config)
    return model


def build_dgcspn(config, num_vars, sum_op_spec, num_vals=2):
    """A DGC-SPN (van de Wolfshaar & Pronobis 2020, the LibSPN-Keras spatial layers) over the
    binary pixels of `config.image_shape` (sides powers of two), input images `[B, H, W, 1]`:

        `input_layers` (e.g. IndicatorLeaf -> Local2DSum(num_input_distributions))
        -> Conv2DProduct(2x2, stride 2, num_sums * num_input_distributions channels, each
           kernel cell's channel drawn from `seed`) -> Local2DSum(num_sums)
        -> [Conv2DProduct(2x2, stride 2, depthwise) -> Local2DSum(num_sums)] ... down to 1x1
        -> SpatialToRegions -> RootSum

    Every product halves the image, so the scopes are the aligned 2^k x 2^k squares (a product
    over four disjoint squares: decomposable; sums mix nodes of one square: complete).
    """
    rows, cols = config.image_shape
    if rows * cols != num_vars or any(n & (n - 1) for n in (rows, cols)):
        raise ValueError("Expected `image_shape` with power-of-two sides covering the "
                         f"{num_vars} variables for a DGC-SPN. Received: "
                         f"image_shape={config.image_shape!r}")
    op = make_op(sum_op_spec, 0)
    dtype, leaves = input_layers(config, num_vals, op, spatial=True)
    layers = [keras.Input((rows, cols, 1), dtype=dtype)] + leaves
    first = True
    while rows > 1 or cols > 1:
        stride = (2 if rows > 1 else 1, 2 if cols > 1 else 1)
        layers.append(Conv2DProduct(
            strides=stride, dilations=1, kernel_size=stride, depthwise=not first, seed=config.seed,
            num_channels=config.num_sums * config.num_input_distributions if first else None))
        rows, cols, first = rows // stride[0], cols // stride[1], False
        if rows > 1 or cols > 1:
            layers.append(Local2DSum(config.num_sums, sum_op=op))
    layers += [SpatialToRegions(), RootSum(return_weighted_child_logits=False, sum_op=op)]
    model = spnk.SequentialSumProductNetwork(layers)
    _init_dirichlet(model, config)
    return model


def build_model(config, num_vars, sum_op_spec, num_vals=2):
    """The config's built-in structure ("ratspn", "poon_domingos" or "dgcspn") over `num_vars`
    variables with values 0..`num_vals`-1, its inputs by `config.leaf` (`input_layers`), every
    sum layer on `sum_op_spec`, weights ~ Dirichlet(`config.init_alpha`) from `config.seed`.
    """
    builders = {"ratspn": build_ratspn, "poon_domingos": build_poon_domingos,
                "dgcspn": build_dgcspn}
    if config.structure not in builders:
        raise ValueError(f"Expected `structure` in {tuple(builders)} to build a model. "
                         f"Received: structure={config.structure!r}")
    return builders[config.structure](config, num_vars, sum_op_spec, num_vals)


def _init_dirichlet(model, config):
    """Sum weights ~ Dirichlet(`config.init_alpha`), drawn from one generator, layer by layer."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 3]))
    for layer in model.sum_layers:
        shape = tuple(layer.accumulators.shape)                       # [S, D, I, O]
        draws = rng.dirichlet(np.full(shape[2], config.init_alpha),
                              size=(shape[0], shape[1], shape[3]))  # [S, D, O, I]
        weights = np.maximum(np.moveaxis(draws, -1, 2), 1e-12)        # [S, D, I, O], no zeros
        weights /= weights.sum(axis=2, keepdims=True)
        value = np.log(weights) if layer.logspace_accumulators else weights
        layer.accumulators.assign(value.astype(np.float32))


# -- Poon & Domingos (2011) image structure ------------------------------------------------------
# Rectangles are (top, left, height, width) in pixels; variable = row * image width + col.

def region_cuts(rect, resolution):
    """Every axis-aligned way of cutting `rect` in two, as `(axis, position)` (axis 0: a cut
    between rows). A rectangle that a line of the `resolution` grid crosses is cut on grid lines
    only (Poon & Domingos' coarse resolution); one inside a single grid cell, at every pixel."""
    spans = ((rect[0], rect[2]), (rect[1], rect[3]))                # (start, size) per axis
    every = [(axis, p) for axis, (start, size) in enumerate(spans)
             for p in range(start + 1, start + size)]
    return [cut for cut in every if cut[1] % resolution == 0] or every


def _halves(rect, axis, position):
    top, left, height, width = rect
    if axis == 0:
        return (top, left, position - top, width), (position, left, top + height - position, width)
    return (top, left, height, position - left), (top, position, height, left + width - position)


def _balanced_region_tree(rect, image_width, resolution, parent_axis):
    """A binary region tree of `rect` down to pixels: each rectangle is cut once, by the cut of
    `region_cuts` nearest the middle of its longer side (a square: across its parent's cut)."""
    top, left, height, width = rect
    if height * width == 1:
        return spnk.RegionVariable(top * image_width + left)
    sizes = (height, width)
    axis, position = min(region_cuts(rect, resolution), key=lambda cut: (
        -sizes[cut[0]], cut[0] == parent_axis,
        abs(2 * cut[1] - 2 * rect[cut[0]] - sizes[cut[0]]), cut[1]))
    return spnk.RegionNode([_balanced_region_tree(half, image_width, resolution, axis)
                            for half in _halves(rect, axis, position)])


def poon_domingos_region_graphs(image_shape, resolution=1):
    """One region tree per cut of the whole image (`region_cuts` of it, all of them); below the
    cut, every rectangle is cut once, near its middle, down to single pixels. Returns the list of
    `RegionNode` roots (the root region's decompositions)."""
    height, width = image_shape
    image = (0, 0, height, width)
    return [spnk.RegionNode([_balanced_region_tree(half, width, resolution, axis)
                             for half in _halves(image, axis, position)])
            for axis, position in region_cuts(image, resolution)]


def _stacked_permutations(roots):
    """The scope orders `[D, 2**L]` of binary region trees as one dense stack of L levels: a
    tree of fewer levels gets its leaf slots padded at the bottom (a factor log 1)."""
    perms = []
    for root in roots:
        perm, arities = region_graph_permutation(root)
        if set(arities) != {2}:
            raise ValueError(f"Expected binary region trees. Received fan-ins {arities}")
        perms.append(np.asarray(perm))
    width = max(len(p) for p in perms)
    out = np.full((len(perms), width), -1, np.int32)
    for d, perm in enumerate(perms):
        out[d, ::width // len(perm)] = perm
    return out


def build_poon_domingos(config, num_vars, sum_op_spec, num_vals=2):
    """The Poon & Domingos (2011) image architecture over `config.image_shape` pixels, as a
    dense `SequentialSumProductNetwork` `[B, rows * cols] -> [B, 1]` (binary pixels).

    PD's region graph is a DAG: every rectangle is cut in every axis-aligned way into two, each
    region has `num_sums` sums over the products of all its cuts, and a sub-rectangle is shared
    by every parent that produces it. The dense layer stack (`[B, scopes, decomps, nodes]`,
    LibSPN-Keras' layout) cannot share a region between parents or mix several cuts below the
    root (decompositions meet only at the root), and `region_graph_to_dense_spn` takes a single
    region tree (`FlatToRegions(1)`, one scope order), so this assembles the same layers with
    one scope order per tree (as `ratspn` does per repetition) for the closest structure:

    - the root sum mixes every cut of the whole image (`region_cuts`: all of them at
      `region_resolution` 1; with a coarser resolution, cuts on that pixel grid only), each cut
      a decomposition (`FlatToRegions(D)`) — exactly PD's root: `D * num_sums**2` products;
    - below the root, each decomposition is a region tree (`RegionNode` / `RegionVariable`,
      `region_graph_permutation`): every rectangle cut once, nearest the middle of its longer
      side, down to single pixels, with `num_sums` sums per region (its own weights in each
      decomposition: no sharing);
    - each pixel has `num_input_distributions` input distributions (`input_layers`: by
      default an `IndicatorLeaf` and a `DenseSum`, as `build_ratspn`), per decomposition.

    Trees shallower than the deepest are padded at the bottom (log 1 factors), so all share one
    stack of `DenseProduct(2)` / `DenseSum(num_sums)` levels, topped by the `RootSum`. Weights
    ~ Dirichlet(`init_alpha`) from `seed`, as `build_ratspn`.
    """
    height, width = config.image_shape
    if height * width != num_vars:
        raise ValueError(f"Expected `image_shape` with {num_vars} pixels (one per variable). "
                         f"Received: image_shape={tuple(config.image_shape)}")
    perms = _stacked_permutations(poon_domingos_region_graphs(config.image_shape,
                                                               config.region_resolution))
    op = make_op(sum_op_spec, 0)
    levels = int(np.log2(perms.shape[1]))
    dtype, leaves = input_layers(config, num_vals, op)
    layers = ([keras.Input(shape=(num_vars,), dtype=dtype),
               FlatToRegions(len(perms), dtype=dtype)] + leaves + [PermuteAndPadScopes(perms)])
    for level in range(levels):
        layers.append(DenseProduct(2))
        if level < levels - 1:
            layers.append(DenseSum(config.num_sums, sum_op=op))
    layers.append(RootSum(return_weighted_child_logits=False, sum_op=op))
    model = spnk.SequentialSumProductNetwork(layers)
    model.build((None, num_vars))
    _init_dirichlet(model, config)
    return model
