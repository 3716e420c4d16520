"""A one-call RAT-SPN (random tensorised SPN, Peharz et al. 2019) in the LibSPN-Keras layout."""
import math

import keras

from spnlab.core.layers.discrete_leaves import IndicatorLeaf
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.products import DenseProduct, ReduceProduct
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopesRandom
from spnlab.core.layers.sum_layers import DenseSum, RootSum
from spnlab.core.models.sequential import SequentialSumProductNetwork


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive int. Received: {name}={value!r}")
    return value


def ratspn(num_vars, depth=2, num_repetitions=4, num_input_distributions=4, num_sums=4,
           leaf=None, sum_op=None, accumulator_initializer=None, seed=None, input_dtype=None,
           num_vals=2):
    """A RAT-SPN: `num_repetitions` random binary trees of `depth` levels, mixed at the root.

    Layers (as LibSPN-Keras' benchmark against Einsum networks):
    FlatToRegions(num_repetitions) -> leaf -> [DenseSum(num_input_distributions) for indicator
    leaves] -> PermuteAndPadScopesRandom (pads to `f * 2**depth` scopes) -> ReduceProduct(f)
    (f = ceil(num_vars / 2**depth), skipped when 1) -> depth x [DenseProduct(2),
    DenseSum(num_sums, 1 on the last)] -> RootSum, giving log p(x) `[B, 1]`.

    Args:
        num_vars: number of variables.
        depth: binary product levels.
        num_repetitions: random trees (decompositions).
        num_input_distributions: distributions per variable and repetition.
        num_sums: sums per region.
        leaf: a leaf layer; default `IndicatorLeaf(num_vals)` followed by a DenseSum of
            `num_input_distributions`; any other leaf is used as is (its components are the
            input distributions).
        sum_op: sum op of every sum layer (default: the process default).
        accumulator_initializer: initializer of every sum layer.
        seed: seed of the random scope permutations.
        input_dtype: dtype of the data (default int32 for discrete leaves, float32 otherwise).
        num_vals: values per variable of the default indicator leaf (2: binary data).
    """
    for name in ("num_vars", "depth", "num_repetitions", "num_input_distributions", "num_sums",
                 "num_vals"):
        _positive_int(name, locals()[name])
    if leaf is not None and not isinstance(leaf, BaseLeaf):
        raise TypeError(f"Expected `leaf` to be a leaf layer. Received: leaf={leaf!r}")
    sum_kwargs = dict(sum_op=sum_op, accumulator_initializer=accumulator_initializer)
    bottom = max(1, math.ceil(num_vars / 2 ** depth))
    if bottom * 2 ** (depth - 1) >= num_vars and depth > 1:
        raise ValueError(f"depth={depth} is too deep for num_vars={num_vars}: the top product "
                         f"would only join padding. Use depth <= {max(1, math.ceil(math.log2(num_vars)))}")
    discrete = leaf is None or getattr(leaf, "num_categories", None) is not None
    dtype = input_dtype or ("int32" if discrete else "float32")
    layers = [keras.Input(shape=(num_vars,), dtype=dtype), FlatToRegions(num_repetitions, dtype=dtype)]
    if leaf is None:
        layers += [IndicatorLeaf(num_vals), DenseSum(num_input_distributions, **sum_kwargs)]
    else:
        layers.append(leaf)
    layers.append(PermuteAndPadScopesRandom(factors=[bottom] + [2] * depth, seed=seed))
    if bottom > 1:
        layers.append(ReduceProduct(bottom))
    for level in range(depth):
        layers.append(DenseProduct(2))
        layers.append(DenseSum(num_sums if level < depth - 1 else 1, **sum_kwargs))
    layers.append(RootSum(return_weighted_child_logits=False, **sum_kwargs))
    return SequentialSumProductNetwork(layers)
