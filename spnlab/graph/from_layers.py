"""Expanding a core layer model into its node graph (imports TensorFlow via the core layers).

`from_layer_model` walks the layers of a `SequentialSumProductNetwork` once, keeping for every
entry `(scope, decomp, node)` of the current region tensor `[S, D, N]` the graph output it
stands for, or None for padding (PermuteAndPadScopes' -1: log 1, a factor that changes no
product). Each layer turns into nodes:

    FlatToRegions(D)        scope s = variable x<s>, copied into D decompositions (no nodes)
    IndicatorLeaf(K)        one IndicatorLeaf node over all variables (values 0..K-1)
    CategoricalLeaf / BernoulliLeaf
                            an IndicatorLeaf and one ParallelSums(K) per (scope, decomp) whose
                            weights are the categorical probabilities
    NormalLeaf(K)           one NormalLeaf node per decomposition (K components per variable)
    DenseSum(M)             one ParallelSums(M) per (scope, decomp) that holds any non-padding
    PermuteAndPadScopes(*)  re-indexing, padding becomes None (no nodes)
    ReduceProduct(F)        one Product per (scope, decomp, node) over its non-padding factors
    DenseProduct(F)         one Product per combination of nodes (equal ones made once: a
                            padded factor repeats its partner's products)
    Undecompose             re-indexing (no nodes)
    RootSum                 one Sum over every node of every decomposition
    LogDropout              skipped: the identity at inference, and the graph is the
                            inference-time distribution

NormalizeStandardScore (the layer model's value would be a density of the normalised data, not
of x), spatial and convolutional layers, Cauchy and Laplace leaves are refused with a
TypeError naming the layer. Every created node is named after its layer and region,
`dense_sum[s,d]`; in the collapsed DOT view each layer that creates nodes is one level box.
"""
import itertools
from typing import NamedTuple

import numpy as np

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf as IndicatorLayer
from spnlab.core.layers.location_scale import NormalLeaf as NormalLayer
from spnlab.core.layers.misc import LogDropout, NormalizeStandardScore
from spnlab.core.layers.products import DenseProduct, ReduceProduct, Undecompose
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopes
from spnlab.core.layers.sum_layers import DenseSum, RootSum
from spnlab.graph.leaves import IndicatorLeaf, NormalLeaf
from spnlab.graph.products import Product
from spnlab.graph.sums import ParallelSums, Sum
from spnlab.graph.variables import Variable


class LayerGraph(NamedTuple):
    """The expanded graph: its `root` and its `variables` in the layer model's column order.

    Sum and product nodes carry `origin = (layer name, scope, decomp[, node])`: where in the
    layer's output `[B, S, D, N]` they come from (a ParallelSums node holds all N sums of its
    (scope, decomp)), so per-layer signals can colour the drawing.
    """

    root: object
    variables: tuple


def _weights(log_w):
    """Normalised weights `[num_sets, num_children]` from log-weights `[num_children, num_sets]`."""
    w = np.exp(np.asarray(log_w, np.float64)).T
    return w / w.sum(axis=1, keepdims=True)


class _Expansion:
    """The region tensor as nested lists `entries[s][d][n]` of `(node, output)` or None."""

    def __init__(self, num_vars):
        self.entries = None
        self.num_vars = num_vars
        self.variables = None

    # -- leaves --------------------------------------------------------------------------
    def flat_to_regions(self, layer):
        self.entries = [[[("x", s)] for _ in range(layer.num_decomps)]
                        for s in range(self.num_vars)]

    def _leaf_shape(self, layer):
        if self.entries is None or any(e != [("x", s)] for s, row in enumerate(self.entries)
                                       for e in row):
            raise ValueError(f"Expected the leaf layer {layer.name!r} directly after "
                             "FlatToRegions. Received another layer before it.")
        return len(self.entries), len(self.entries[0])

    def indicator_leaf(self, layer):
        scopes, decomps = self._leaf_shape(layer)
        k = layer.num_components
        self.variables = tuple(Variable(f"x{v}", num_vals=k) for v in range(scopes))
        leaf = IndicatorLeaf(variables=self.variables, name=layer.name)
        self.entries = [[[(leaf, s * k + j) for j in range(k)] for _ in range(decomps)]
                        for s in range(scopes)]

    def categorical_leaf(self, layer):
        scopes, decomps = self._leaf_shape(layer)
        c = layer.num_categories
        self.variables = tuple(Variable(f"x{v}", num_vals=c) for v in range(scopes))
        leaf = IndicatorLeaf(variables=self.variables, name=f"{layer.name}_indicators")
        log_p = layer.log_probs().numpy()[0, :, :, :, 0, :]              # [S, D, K, C]
        self.entries = [[None] * decomps for _ in range(scopes)]
        for s, d in itertools.product(range(scopes), range(decomps)):
            sums = ParallelSums((leaf, range(s * c, (s + 1) * c)), num_sums=layer.num_components,
                                weights=_weights(log_p[s, d].T), name=f"{layer.name}[{s},{d}]")
            self.entries[s][d] = [(sums, j) for j in range(layer.num_components)]

    def normal_leaf(self, layer):
        scopes, decomps = self._leaf_shape(layer)
        k = layer.num_components
        loc, scale = (t.numpy().astype(np.float64) for t in layer.location_and_scale())
        if loc.shape[-1] != 1:
            raise ValueError(f"Expected univariate leaves (var_dims 1) in {layer.name!r}. "
                             f"Received: var_dims={loc.shape[-1]}")
        loc, scale = loc[0, ..., 0], scale[0, ..., 0]                     # [S, D, K]
        self.variables = tuple(Variable(f"x{v}") for v in range(scopes))
        self.entries = [[None] * decomps for _ in range(scopes)]
        for d in range(decomps):                                          # loc, scale [S, D, K]
            leaf = NormalLeaf(scopes, k, loc=loc[:, d], scale=scale[:, d],
                              variables=self.variables, name=f"{layer.name}[{d}]")
            for s in range(scopes):
                self.entries[s][d] = [(leaf, s * k + j) for j in range(k)]

    # -- sums and products -----------------------------------------------------------------
    def dense_sum(self, layer):
        log_w = layer.log_weights().numpy()                               # [S, D, N, M]
        for s, row in enumerate(self.entries):
            for d, children in enumerate(row):
                if all(c is None for c in children):
                    continue                                              # padding stays 1
                sums = ParallelSums(*children, num_sums=layer.num_sums,
                                    weights=_weights(log_w[s, d]), name=f"{layer.name}[{s},{d}]")
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
    (CategoricalLeaf, "categorical_leaf"), (NormalLayer, "normal_leaf"),
    (RootSum, "root_sum"), (DenseSum, "dense_sum"), (DenseProduct, "dense_product"),
    (ReduceProduct, "reduce_product"), (PermuteAndPadScopes, "permute_and_pad"),
    (Undecompose, "undecompose"),
]


def _num_vars(model):
    try:
        return int(model.inputs[0].shape[1])
    except (AttributeError, IndexError, TypeError, ValueError):
        raise ValueError("Expected a built layer model with a known number of variables (call "
                         f"it on data or give it a keras.Input). Received: {model!r}") from None


def from_layer_model(model):
    """The node graph of a layer SPN (a `SequentialSumProductNetwork` or list-like of layers
    with `inputs`), with the layers' current weights copied.

    Returns:
        `LayerGraph(root, variables)`: `variables[v]` is column v of the layer model's data,
        so `log_value(root, x)` equals the layer model's log-likelihood of `x`.
    """
    layers = list(getattr(model, "layers", ()))
    if not layers:
        raise ValueError(f"Expected a layer model with layers. Received: model={model!r}")
    expansion = _Expansion(_num_vars(model))
    for layer in layers:
        if isinstance(layer, LogDropout):
            continue
        if isinstance(layer, NormalizeStandardScore):
            raise TypeError(f"from_layer_model cannot expand NormalizeStandardScore (layer "
                            f"{layer.name!r}): the layer model's value is then a density of the "
                            "normalised data, not of x. Normalise the data before the model.")
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
                            "CategoricalLeaf, BernoulliLeaf, NormalLeaf, DenseSum, DenseProduct, "
                            "ReduceProduct, PermuteAndPadScopes(Random), Undecompose, RootSum, "
                            "LogDropout (skipped)")
    entries = [c for row in expansion.entries or [] for e in row for c in e]
    if len(entries) != 1 or entries[0] is None or entries[0][0] == "x":
        raise ValueError("Expected the layers to end in a single node (e.g. a RootSum). "
                         f"Received: {len(entries)} outputs")
    node, index = entries[0]
    if node.num_outputs != 1:
        node = Sum((node, index), name=f"{node.name}_output")
    return LayerGraph(node, expansion.variables)
