"""Image structures: Poon & Domingos' (2011) region architecture and the DGC-SPN
(van de Wolfshaar & Pronobis 2020), as `SequentialSumProductNetwork`s in the LibSPN-Keras
layout. Like `ratspn`, each takes the sizes, an optional leaf layer (default: an
`IndicatorLeaf(num_vals)` followed by sums of `num_input_distributions`) and a sum op.
"""
import keras
import numpy as np

from spnlab.core.layers.discrete_leaves import IndicatorLeaf
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.products import DenseProduct
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopes
from spnlab.core.layers.spatial import SpatialToRegions
from spnlab.core.layers.spatial_products import Conv2DProduct
from spnlab.core.layers.spatial_sums import Local2DSum
from spnlab.core.layers.sum_layers import DenseSum, RootSum
from spnlab.core.models.ratspn import _positive_int
from spnlab.core.models.region_graph import RegionNode, RegionVariable, region_graph_permutation
from spnlab.core.models.sequential import SequentialSumProductNetwork


def _image_shape(image_shape):
    try:
        rows, cols = (int(n) for n in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"Expected `image_shape` (rows, cols). Received: "
                         f"image_shape={image_shape!r}") from None
    _positive_int("image_shape[0]", rows)
    _positive_int("image_shape[1]", cols)
    return rows, cols


def _inputs(leaf, num_vals, num_input_distributions, sum_op, spatial=False):
    """`(input dtype, layers)`: `leaf` as given, or an IndicatorLeaf and its sums."""
    if leaf is None:
        sums = (Local2DSum if spatial else DenseSum)(num_input_distributions, sum_op=sum_op)
        return "int32", [IndicatorLeaf(num_vals), sums]
    if not isinstance(leaf, BaseLeaf):
        raise TypeError(f"Expected `leaf` to be a leaf layer. Received: leaf={leaf!r}")
    discrete = getattr(leaf, "num_categories", None) is not None
    return ("int32" if discrete else "float32"), [leaf]


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
        return RegionVariable(top * image_width + left)
    sizes = (height, width)
    axis, position = min(region_cuts(rect, resolution), key=lambda cut: (
        -sizes[cut[0]], cut[0] == parent_axis,
        abs(2 * cut[1] - 2 * rect[cut[0]] - sizes[cut[0]]), cut[1]))
    return RegionNode([_balanced_region_tree(half, image_width, resolution, axis)
                            for half in _halves(rect, axis, position)])


def poon_domingos_region_graphs(image_shape, resolution=1):
    """One region tree per cut of the whole image (`region_cuts` of it, all of them); below the
    cut, every rectangle is cut once, near its middle, down to single pixels. Returns the list of
    `RegionNode` roots (the root region's decompositions)."""
    height, width = image_shape
    image = (0, 0, height, width)
    return [RegionNode([_balanced_region_tree(half, width, resolution, axis)
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


def poon_domingos(image_shape, num_sums=4, num_input_distributions=4, leaf=None, sum_op=None,
                  num_vals=2, region_resolution=1):
    """The Poon & Domingos (2011) image architecture over `image_shape` pixels, as a
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
    rows, cols = _image_shape(image_shape)
    for name, value in (("num_sums", num_sums), ("num_input_distributions",
                        num_input_distributions), ("num_vals", num_vals),
                        ("region_resolution", region_resolution)):
        _positive_int(name, value)
    num_vars = rows * cols
    perms = _stacked_permutations(poon_domingos_region_graphs((rows, cols), region_resolution))
    levels = int(np.log2(perms.shape[1]))
    dtype, leaves = _inputs(leaf, num_vals, num_input_distributions, sum_op)
    layers = ([keras.Input(shape=(num_vars,), dtype=dtype),
               FlatToRegions(len(perms), dtype=dtype)] + leaves + [PermuteAndPadScopes(perms)])
    for level in range(levels):
        layers.append(DenseProduct(2))
        if level < levels - 1:
            layers.append(DenseSum(num_sums, sum_op=sum_op))
    layers.append(RootSum(return_weighted_child_logits=False, sum_op=sum_op))
    model = SequentialSumProductNetwork(layers)
    model.build((None, num_vars))
    return model


def dgcspn(image_shape, num_sums=4, num_input_distributions=4, leaf=None, sum_op=None,
           num_vals=2, seed=None):
    """A DGC-SPN (van de Wolfshaar & Pronobis 2020, the LibSPN-Keras spatial layers) over the
    pixels of `image_shape` (sides powers of two), input images `[B, H, W, 1]`:

        leaf (default IndicatorLeaf(num_vals) -> Local2DSum(num_input_distributions))
        -> Conv2DProduct(2x2, stride 2, num_sums * num_input_distributions channels, each
           kernel cell's channel drawn from `seed`) -> Local2DSum(num_sums)
        -> [Conv2DProduct(2x2, stride 2, depthwise) -> Local2DSum(num_sums)] ... down to 1x1
        -> SpatialToRegions -> RootSum

    Every product halves the image, so the scopes are the aligned 2^k x 2^k squares (a product
    over four disjoint squares: decomposable; sums mix nodes of one square: complete).
    """
    rows, cols = _image_shape(image_shape)
    if any(n & (n - 1) for n in (rows, cols)):
        raise ValueError("Expected `image_shape` with power-of-two sides for a DGC-SPN. "
                         f"Received: image_shape={tuple(image_shape)!r}")
    for name, value in (("num_sums", num_sums), ("num_input_distributions",
                        num_input_distributions), ("num_vals", num_vals)):
        _positive_int(name, value)
    dtype, leaves = _inputs(leaf, num_vals, num_input_distributions, sum_op, spatial=True)
    layers = [keras.Input((rows, cols, 1), dtype=dtype)] + leaves
    first = True
    while rows > 1 or cols > 1:
        stride = (2 if rows > 1 else 1, 2 if cols > 1 else 1)
        layers.append(Conv2DProduct(
            strides=stride, dilations=1, kernel_size=stride, depthwise=not first, seed=seed,
            num_channels=num_sums * num_input_distributions if first else None))
        rows, cols, first = rows // stride[0], cols // stride[1], False
        if rows > 1 or cols > 1:
            layers.append(Local2DSum(num_sums, sum_op=sum_op))
    layers += [SpatialToRegions(), RootSum(return_weighted_child_logits=False, sum_op=sum_op)]
    return SequentialSumProductNetwork(layers)
