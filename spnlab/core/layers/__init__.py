"""Keras layers of region (dense) SPNs; names and arguments as in LibSPN-Keras 0.6."""
from spnlab.core.layers.discrete_leaves import BernoulliLeaf, CategoricalLeaf, IndicatorLeaf
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.location_scale import (CauchyLeaf, LaplaceLeaf, LocationScaleLeafBase,
                                               NormalLeaf)
from spnlab.core.layers.misc import LogDropout, NormalizeStandardScore
from spnlab.core.layers.products import DenseProduct, ReduceProduct, Undecompose
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopes, PermuteAndPadScopesRandom
from spnlab.core.layers.spatial import SpatialToRegions
from spnlab.core.layers.spatial_products import Conv2DProduct
from spnlab.core.layers.spatial_sums import Conv2DSum, Local2DSum
from spnlab.core.layers.sum_layers import DenseSum, RootSum, SumLayerBase

__all__ = [
    "BaseLeaf", "IndicatorLeaf", "CategoricalLeaf", "BernoulliLeaf", "LocationScaleLeafBase",
    "NormalLeaf", "CauchyLeaf", "LaplaceLeaf", "FlatToRegions", "PermuteAndPadScopes",
    "PermuteAndPadScopesRandom", "DenseProduct", "ReduceProduct", "Undecompose", "DenseSum",
    "RootSum", "SumLayerBase", "LogDropout", "NormalizeStandardScore",
    "Conv2DProduct", "Conv2DSum", "Local2DSum", "SpatialToRegions",
]
