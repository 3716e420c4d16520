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
from spnlab.core.layers.spatial_sums import Local2DSum
from spnlab.core.layers.sum_layers import DenseSum, SumLayerBase
from spnlab.core.models.images import dgcspn, poon_domingos
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
    """`spnlab.core.models.dgcspn` over `config.image_shape` (covering the `num_vars` pixels),
    its inputs by `config.leaf` (`input_layers`, spatial), weights ~ Dirichlet(`init_alpha`)."""
    rows, cols = config.image_shape
    if rows * cols != num_vars or any(n & (n - 1) for n in (rows, cols)):
        raise ValueError("Expected `image_shape` with power-of-two sides covering the "
                         f"{num_vars} variables for a DGC-SPN. Received: "
                         f"image_shape={config.image_shape!r}")
    op = make_op(sum_op_spec, 0)
    leaf = None if config.leaf == "indicator" else \
        input_layers(config, num_vals, op, spatial=True)[1][0]
    model = dgcspn(config.image_shape, num_sums=config.num_sums,
                   num_input_distributions=config.num_input_distributions, leaf=leaf,
                   sum_op=op, num_vals=num_vals, seed=config.seed)
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


def build_poon_domingos(config, num_vars, sum_op_spec, num_vals=2):
    """`spnlab.core.models.poon_domingos` over `config.image_shape` (one pixel per variable),
    its inputs by `config.leaf` (`input_layers`), weights ~ Dirichlet(`init_alpha`) from
    `seed`, as `build_ratspn`."""
    height, width = config.image_shape
    if height * width != num_vars:
        raise ValueError(f"Expected `image_shape` with {num_vars} pixels (one per variable). "
                         f"Received: image_shape={tuple(config.image_shape)}")
    op = make_op(sum_op_spec, 0)
    leaf = None if config.leaf == "indicator" else input_layers(config, num_vals, op)[1][0]
    model = poon_domingos(config.image_shape, num_sums=config.num_sums,
                          num_input_distributions=config.num_input_distributions, leaf=leaf,
                          sum_op=op, num_vals=num_vals,
                          region_resolution=config.region_resolution)
    _init_dirichlet(model, config)
    return model
