"""Expanding a core layer model into its node graph (imports TensorFlow via the core layers).

`from_layer_model` walks the layers of a `SequentialSumProductNetwork` once, keeping for every
entry `(scope, decomp, node)` of the current region tensor `[S, D, N]` the graph output it
stands for, or None for padding (PermuteAndPadScopes' -1: log 1, a factor that changes no
product). Each layer turns into nodes:

    NormalizeStandardScore  (first layer, variable-wise or global) no nodes: the leaves'
                            parameters of z = (x - mean) / (stddev + eps) are turned into
                            parameters of x (location-scale), so the graph is the density of
                            x; `LayerGraph.log_scale` holds the Jacobian. Sample-wise
                            normalisation is no fixed density of x and is refused.
    FlatToRegions(D)        scope s = variable x<s> (with dims: x<s * dims + c>), copied into
                            D decompositions (no nodes)
    IndicatorLeaf(K)        one IndicatorLeaf node over all variables (values 0..K-1)
    CategoricalLeaf / BernoulliLeaf
                            an IndicatorLeaf and one ParallelSums(K) per (scope, decomp[, dim])
                            whose weights are the categorical probabilities
    NormalLeaf / LaplaceLeaf / CauchyLeaf (K)
                            one leaf node of that family per decomposition (K components per
                            variable)
    DenseSum(M)             one ParallelSums(M) per (scope, decomp) that holds any non-padding
    PermuteAndPadScopes(*)  re-indexing, padding becomes None (no nodes)
    ReduceProduct(F)        one Product per (scope, decomp, node) over its non-padding factors
    DenseProduct(F)         one Product per combination of nodes (equal ones made once: a
                            padded factor repeats its partner's products)
    Undecompose             re-indexing (no nodes)
    RootSum                 one Sum over every node of every decomposition
    LogDropout              skipped: the identity at inference, and the graph is the
                            inference-time distribution

A leaf over several values per cell (data `[B, V, dims]`, images `[B, H, W, dims]`) sums their
log-densities per component, so each component becomes a `Product` `<leaf>[s,d,k]` of the dims'
univariate leaf outputs.

Spatial (DGC-SPN) models apply the leaf to images `[B, H, W, C]` directly; the same nested
lists then hold `entries[row][col][channel]` (a spatial tensor is a region tensor with rows as
scopes and columns as decomps, which is also why DenseSum works on either):

    leaf on [B, H, W, C]    as above with C variables per pixel, `x<(h * W + w) * C + c>`
                            (row-major, the model's data flattened); one leaf node for all
    Local2DSum(M)           one ParallelSums(M) per position (as DenseSum)
    Conv2DSum(M)            one ParallelSums(M) per position, all using one shared Weights node
                            `<layer>_weights` with M sets (shared weights stay shared)
    Conv2DProduct           one Product per (row, col, channel) over the input nodes of its
                            kernel window (the cells `conv_log_product` adds, channel
                            `channel_indices[i, j, o]` or o when depthwise); padded cells are
                            left out (log 1), a window of only padding stays padding
    SpatialToRegions        re-indexing to one region `[1][1][H * W * C]`, row-major (no nodes)

Every created node is named after its layer and region, `dense_sum[s,d]` (spatial:
`conv2d_product[r,c,o]`, `local2d_sum[r,c]`); in the collapsed DOT view each layer that creates
nodes is one level box.
"""
import itertools
from typing import NamedTuple

import numpy as np

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf as IndicatorLayer
from spnlab.core.layers.location_scale import CauchyLeaf as CauchyLayer
from spnlab.core.layers.location_scale import LaplaceLeaf as LaplaceLayer
from spnlab.core.layers.location_scale import NormalLeaf as NormalLayer
from spnlab.core.layers.misc import LogDropout, NormalizeStandardScore
from spnlab.core.layers.products import DenseProduct, ReduceProduct, Undecompose
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopes
from spnlab.core.layers.spatial import SpatialToRegions
from spnlab.core.layers.spatial_products import Conv2DProduct
from spnlab.core.layers.spatial_sums import Conv2DSum, Local2DSum
from spnlab.core.layers.sum_layers import DenseSum, RootSum
from spnlab.graph.leaves import CauchyLeaf, IndicatorLeaf, LaplaceLeaf, NormalLeaf
from spnlab.graph.products import Product
from spnlab.graph.sums import ParallelSums, Sum
from spnlab.graph.variables import Variable
from spnlab.graph.weights import Weights


class LayerGraph(NamedTuple):
    """The expanded graph: its `root` and its `variables` in the layer model's column order.

    Sum and product nodes carry `origin = (layer name, scope, decomp[, node])`: where in the
    layer's output `[B, S, D, N]` they come from (a ParallelSums node holds all N sums of its
    (scope, decomp)), so per-layer signals can colour the drawing. Nodes of spatial layers carry
    `origin = (layer name, row, col[, channel])` alike (output `[B, H, W, C]`).

    `log_scale [num_vars]` is `log(stddev + epsilon)` of a `NormalizeStandardScore` in front of
    the model (zeros without one): the graph is the density of the raw data x, the layer model
    that of the normalised data z = (x - mean) / (stddev + epsilon), so
    `layer log-likelihood = graph log-likelihood + sum of log_scale over the observed variables`.
    """

    root: object
    variables: tuple
    log_scale: object = None


def _weights(log_w):
    """Normalised weights `[num_sets, num_children]` from log-weights `[num_children, num_sets]`."""
    w = np.exp(np.asarray(log_w, np.float64)).T
    return w / w.sum(axis=1, keepdims=True)


_FAMILIES = {NormalLayer: NormalLeaf, LaplaceLayer: LaplaceLeaf, CauchyLayer: CauchyLeaf}


class _Expansion:
    """The region tensor as nested lists `entries[s][d][n]` of `(node, output)` or None.

    The data is `[B, V]`, `[B, V, dims]` (regions) or `[B, H, W, dims]` (images); variable
    `_variable(s, d, c)` is value c of region cell (s, d) or pixel (row s, col d), the data
    flattened row-major. A leaf component over several dims is the product of its univariate
    densities (the leaf layers sum log-densities over dims), so it becomes a `Product`.
    """

    def __init__(self, num_vars, image_shape=None, dims=1):
        self.entries = None
        self.num_vars = num_vars
        self.image_shape = image_shape                                    # (H, W) or None
        self.dims = dims
        self.variables = None
        self.shift = np.zeros(num_vars)                                   # x = shift + scale * z
        self.scale = np.ones(num_vars)

    # -- leaves --------------------------------------------------------------------------
    def normalize(self, layer):
        """A `NormalizeStandardScore` on the data: remembered, applied to the leaves."""
        if self.entries is not None or np.any(self.scale != 1.0) or np.any(self.shift != 0.0):
            raise TypeError(f"from_layer_model expands NormalizeStandardScore (layer "
                            f"{layer.name!r}) only as the first layer, on the data.")
        if layer.axes == "sample-wise":
            raise TypeError(
                f"from_layer_model cannot expand NormalizeStandardScore(axes='sample-wise') "
                f"(layer {layer.name!r}): each sample is scaled by its own statistics, so the "
                "model is no fixed density of x. Use axes='variable-wise' or 'global' (adapt it "
                "to the data), or normalise the data before the model.")
        mean = np.asarray(layer.mean.numpy(), np.float64).reshape(-1)      # [V] or [1]
        stddev = np.asarray(layer.stddev.numpy(), np.float64).reshape(-1)
        self.shift = np.broadcast_to(mean, (self.num_vars,)).copy()
        self.scale = np.broadcast_to(stddev + layer.normalization_epsilon, (self.num_vars,)).copy()

    def flat_to_regions(self, layer):
        self.entries = [[[("x", s)] for _ in range(layer.num_decomps)]
                        for s in range(self.num_vars // self.dims)]

    def _leaf_shape(self, layer):
        if self.entries is None and self.image_shape is not None:
            return self.image_shape                                       # rows, cols
        if self.entries is None or any(e != [("x", s)] for s, row in enumerate(self.entries)
                                       for e in row):
            raise ValueError(f"Expected the leaf layer {layer.name!r} directly after "
                             "FlatToRegions. Received another layer before it.")
        return len(self.entries), len(self.entries[0])

    def _variable(self, s, d, c=0):
        """The variable index of value c of region entry (s, d), or of pixel (row s, col d)."""
        cell = s if self.image_shape is None else s * self.image_shape[1] + d
        return cell * self.dims + c

    def _discrete_only(self, layer):
        if np.any(self.scale != 1.0) or np.any(self.shift != 0.0):
            raise TypeError(f"Expected no NormalizeStandardScore before the discrete leaf "
                            f"{layer.name!r}: normalised values are not category indices.")

    def _components(self, layer, scopes, decomps, output):
        """`entries[s][d][k]` = component k of cell (s, d): `output(s, d, c, k)` for one dim,
        else a Product over the dims (named `<layer>[s,d,k]`)."""
        self.entries = [[None] * decomps for _ in range(scopes)]
        for s, d in itertools.product(range(scopes), range(decomps)):
            cell = []
            for k in range(layer.num_components):
                factors = [output(s, d, c, k) for c in range(self.dims)]
                if len(factors) == 1:
                    cell.append(factors[0])
                else:
                    node = Product(*factors, name=f"{layer.name}[{s},{d},{k}]")
                    node.origin = (layer.name, s, d, k)
                    cell.append((node, 0))
            self.entries[s][d] = cell

    def indicator_leaf(self, layer):
        scopes, decomps = self._leaf_shape(layer)
        self._discrete_only(layer)
        k = layer.num_components
        self.variables = tuple(Variable(f"x{v}", num_vals=k) for v in range(self.num_vars))
        leaf = IndicatorLeaf(variables=self.variables, name=layer.name)
        self._components(layer, scopes, decomps,
                         lambda s, d, c, j: (leaf, self._variable(s, d, c) * k + j))

    def categorical_leaf(self, layer):
        scopes, decomps = self._leaf_shape(layer)
        self._discrete_only(layer)
        c = layer.num_categories
        self.variables = tuple(Variable(f"x{v}", num_vals=c) for v in range(self.num_vars))
        leaf = IndicatorLeaf(variables=self.variables, name=f"{layer.name}_indicators")
        log_p = layer.log_probs().numpy()[0]                              # [S, D, K, V, C]
        made = {}

        def output(s, d, dim, j):
            if (s, d, dim) not in made:
                v = self._variable(s, d, dim)
                suffix = f"{s},{d}" if self.dims == 1 else f"{s},{d},{dim}"
                made[s, d, dim] = ParallelSums(
                    (leaf, range(v * c, (v + 1) * c)), num_sums=layer.num_components,
                    weights=_weights(log_p[s, d, :, dim].T), name=f"{layer.name}[{suffix}]")
            return made[s, d, dim], j

        self._components(layer, scopes, decomps, output)

    def location_scale_leaf(self, layer):
        scopes, decomps = self._leaf_shape(layer)
        k = layer.num_components
        loc, scale = (t.numpy().astype(np.float64)[0] for t in layer.location_and_scale())
        # [S, D, K, V] -> [S, D, V, K], each cell's variables in data order
        loc, scale = loc.transpose(0, 1, 3, 2), scale.transpose(0, 1, 3, 2)
        family = _FAMILIES[type(layer)]
        self.variables = tuple(Variable(f"x{v}") for v in range(self.num_vars))

        def leaf(cells, name):
            """One leaf over all variables; `cells [..., V, K]` in data order."""
            loc_z, scale_z = loc[cells].reshape(-1, k), scale[cells].reshape(-1, k)
            shift, factor = self.shift[:, None], self.scale[:, None]
            return family(self.num_vars, k, variables=self.variables, name=name,
                          loc=shift + factor * loc_z, scale=factor * scale_z)

        if self.image_shape is not None:                                  # one leaf, all pixels
            single = leaf(np.s_[:], layer.name)
            leaves = [single] * decomps
        else:                                                             # one leaf per decomp
            leaves = [leaf(np.s_[:, d], f"{layer.name}[{d}]") for d in range(decomps)]
        self._components(layer, scopes, decomps,
                         lambda s, d, c, j: (leaves[d], self._variable(s, d, c) * k + j))

    # -- sums and products -----------------------------------------------------------------
    def _spatial(self, layer):
        if self.entries is None or self.entries and self.entries[0] and \
                self.entries[0][0] == [("x", 0)]:
            raise ValueError(f"Expected a leaf layer before {layer.name!r}. "
                             "Received none (apply a leaf to the image data first)")
        return len(self.entries), len(self.entries[0]), len(self.entries[0][0])

    def dense_sum(self, layer):
        """DenseSum and Local2DSum (`[S, D, N, M]` = `[H, W, C, M]` weights per entry)."""
        self._spatial(layer)
        log_w = layer.log_weights().numpy()                               # [S, D, N, M]
        self._sums(layer, lambda s, d: _weights(log_w[s, d]))

    def conv2d_sum(self, layer):
        """One `Weights` node with M sets, shared by the sums of every position."""
        self._spatial(layer)
        log_w = layer.log_weights().numpy()                               # [1, 1, C, M]
        shared = Weights(_weights(log_w[0, 0]), name=f"{layer.name}_weights")
        self._sums(layer, lambda s, d: shared)

    def _sums(self, layer, weights):
        for s, row in enumerate(self.entries):
            for d, children in enumerate(row):
                if all(c is None for c in children):
                    row[d] = [None] * layer.num_sums                      # padding stays 1
                    continue
                if any(c is None for c in children):
                    raise ValueError(f"Expected all or none of the inputs of {layer.name!r} at "
                                     f"({s}, {d}) to be padding. Received a mix")
                sums = ParallelSums(*children, num_sums=layer.num_sums,
                                    weights=weights(s, d), name=f"{layer.name}[{s},{d}]")
                sums.origin = (layer.name, s, d)
                row[d] = [(sums, j) for j in range(layer.num_sums)]

    def root_sum(self, layer):
        if len(self.entries) != 1:
            raise ValueError(f"Expected one scope before RootSum {layer.name!r}. "
                             f"Received: {len(self.entries)} scopes")
        children = [c for row in self.entries[0] for c in row]
        if any(c is None for c in children):
            raise ValueError(f"Expected no padding below RootSum {layer.name!r}.")
        log_w = layer.log_weights().numpy()[0, 0]                         # [D*N, 1]
        root = Sum(*children, weights=_weights(log_w)[0], name=layer.name)
        root.origin = (layer.name, 0, 0)
        self.entries = [[[(root, 0)]]]

    def _product(self, factors, cache, name, origin=None):
        factors = tuple(f for f in factors if f is not None)
        if not factors:
            return None
        if factors not in cache:
            node = Product(*factors, name=name)
            node.origin = origin
            cache[factors] = (node, 0)
        return cache[factors]

    def reduce_product(self, layer):
        f = layer.num_factors
        scopes = len(self.entries)
        out = []
        for j in range(scopes // f):
            group = self.entries[j * f:(j + 1) * f]
            row = []
            for d in range(len(group[0])):
                cache = {}
                row.append([self._product([g[d][n] for g in group], cache,
                                          f"{layer.name}[{j},{d},{n}]", (layer.name, j, d, n))
                            for n in range(len(group[0][d]))])
            out.append(row)
        self.entries = out

    def dense_product(self, layer):
        f = layer.num_factors
        out = []
        for j in range(len(self.entries) // f):
            group = self.entries[j * f:(j + 1) * f]
            row = []
            for d in range(len(group[0])):
                cache = {}
                combos = itertools.product(*[range(len(g[d])) for g in group])
                row.append([self._product([g[d][n] for g, n in zip(group, combo)], cache,
                                          f"{layer.name}[{j},{d},{i}]", (layer.name, j, d, i))
                            for i, combo in enumerate(combos)])
            out.append(row)
        self.entries = out

    def conv2d_product(self, layer):
        """The cells `conv_log_product` adds: output (r, c, o) multiplies input
        `(r * sh + i * dh - top, c * sw + j * dw - left, k[i, j, o])` over the kernel cells."""
        rows, cols, chans = self._spatial(layer)
        top, _, left, _ = layer.pad_sizes(rows, cols)
        _, out_rows, out_cols, out_chans = layer.compute_output_shape((None, rows, cols, chans))
        (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.strides, layer.dilations
        channels = None if layer.depthwise else np.asarray(layer.channel_indices.numpy())
        cache, out = {}, []
        for r in range(out_rows):
            row = []
            for c in range(out_cols):
                nodes = []
                for o in range(out_chans):
                    factors = []
                    for i, j in itertools.product(range(kh), range(kw)):
                        h, w = r * sh + i * dh - top, c * sw + j * dw - left
                        if 0 <= h < rows and 0 <= w < cols:               # else padding: log 1
                            ch = o if channels is None else int(channels[i, j, o])
                            factors.append(self.entries[h][w][ch])
                    nodes.append(self._product(factors, cache, f"{layer.name}[{r},{c},{o}]",
                                               (layer.name, r, c, o)))
                row.append(nodes)
            out.append(row)
        self.entries = out

    def spatial_to_regions(self, layer):
        self._spatial(layer)
        self.entries = [[[c for row in self.entries for cell in row for c in cell]]]

    def permute_and_pad(self, layer):
        perms = np.asarray(layer.permutations.numpy())                    # [D, S']
        decomps = len(self.entries[0])
        nodes = len(self.entries[0][0])
        self.entries = [[list(self.entries[perms[d, s]][d]) if perms[d, s] >= 0 else
                         [None] * nodes for d in range(decomps)] for s in range(perms.shape[1])]

    def undecompose(self, layer):
        k = layer.num_decomps
        decomps = len(self.entries[0])
        per = decomps // k
        self.entries = [[[c for d in range(g * per, (g + 1) * per) for c in row[d]]
                         for g in range(k)] for row in self.entries]


_STEPS = [
    (FlatToRegions, "flat_to_regions"), (IndicatorLayer, "indicator_leaf"),
    (CategoricalLeaf, "categorical_leaf"), (NormalLayer, "location_scale_leaf"),
    (LaplaceLayer, "location_scale_leaf"), (CauchyLayer, "location_scale_leaf"),
    (NormalizeStandardScore, "normalize"),
    (RootSum, "root_sum"), (DenseSum, "dense_sum"), (DenseProduct, "dense_product"),
    (ReduceProduct, "reduce_product"), (PermuteAndPadScopes, "permute_and_pad"),
    (Undecompose, "undecompose"), (Local2DSum, "dense_sum"), (Conv2DSum, "conv2d_sum"),
    (Conv2DProduct, "conv2d_product"), (SpatialToRegions, "spatial_to_regions"),
]


def _input_shape(model):
    """`(num_vars, image_shape, dims)` of the data `[B, V]`, `[B, V, dims]` or
    `[B, H, W, dims]` (image_shape `(H, W)`, else None)."""
    try:
        shape = tuple(model.inputs[0].shape)
        if len(shape) not in (2, 3, 4) or any(d is None for d in shape[1:]):
            raise ValueError
        sizes = [int(d) for d in shape[1:]]
    except (AttributeError, IndexError, TypeError, ValueError):
        raise ValueError("Expected a built layer model with data [B, V], [B, V, dims] or "
                         "[B, H, W, dims] of known sizes (call it on data or give it a "
                         f"keras.Input). Received: {model!r}") from None
    num_vars = int(np.prod(sizes))
    if len(sizes) == 3:
        return num_vars, tuple(sizes[:2]), sizes[2]
    return num_vars, None, sizes[1] if len(sizes) == 2 else 1


def from_layer_model(model):
    """The node graph of a layer SPN (a `SequentialSumProductNetwork` or list-like of layers
    with `inputs`), with the layers' current weights copied.

    Returns:
        `LayerGraph(root, variables, log_scale)`: `variables[v]` is column v of the layer
        model's data flattened row-major (`x.reshape(B, -1)` of `[B, V, dims]` or image data
        `[B, H, W, dims]`), so `log_value(root, x, variables=variables)` equals the layer
        model's log-likelihood (plus `log_scale.sum()` after a `NormalizeStandardScore`).
    """
    layers = list(getattr(model, "layers", ()))
    if not layers:
        raise ValueError(f"Expected a layer model with layers. Received: model={model!r}")
    expansion = _Expansion(*_input_shape(model))
    for layer in layers:
        if isinstance(layer, LogDropout):
            continue
        for cls, step in _STEPS:
            if type(layer) is cls or (cls is CategoricalLeaf and isinstance(layer, cls)) \
                    or (cls is PermuteAndPadScopes and isinstance(layer, cls)):
                if not layer.built:
                    raise ValueError(f"Expected a built model. Received: layer {layer.name!r} "
                                     "is not built (call the model on data first)")
                getattr(expansion, step)(layer)
                break
        else:
            raise TypeError(f"from_layer_model cannot expand {type(layer).__name__} "
                            f"(layer {layer.name!r}); supported: FlatToRegions, IndicatorLeaf, "
                            "CategoricalLeaf, BernoulliLeaf, NormalLeaf, LaplaceLeaf, CauchyLeaf, "
                            "NormalizeStandardScore (not sample-wise), DenseSum, DenseProduct, "
                            "ReduceProduct, PermuteAndPadScopes(Random), Undecompose, RootSum, "
                            "Local2DSum, Conv2DSum, Conv2DProduct, SpatialToRegions, "
                            "LogDropout (skipped)")
    entries = [c for row in expansion.entries or [] for e in row for c in e]
    if len(entries) != 1 or entries[0] is None or entries[0][0] == "x":
        raise ValueError("Expected the layers to end in a single node (e.g. a RootSum). "
                         f"Received: {len(entries)} outputs")
    node, index = entries[0]
    if node.num_outputs != 1:
        node = Sum((node, index), name=f"{node.name}_output")
    return LayerGraph(node, expansion.variables, np.log(expansion.scale))
