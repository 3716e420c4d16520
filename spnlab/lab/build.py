"""Building the session's model from its config, and stable keys for the layers of any model.

Keras names layers with process-wide counters (`dense_sum_7` in the third model built), so the
lab names them by position instead: `leaf`, sum layers `S1`, `S2`, ... from the bottom up (the
root is the last), product layers `P1`, `P2`, .... Keys are the same in every session built from
the same config, which is what checkpoints, comparisons and views need.
"""
from dataclasses import dataclass

import numpy as np

import spnlab.core as spnk
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.products import DenseProduct, ReduceProduct
from spnlab.core.layers.sum_layers import SumLayerBase
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
    """The leaf, sum and product layers of `model` with their keys, in model order."""
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


def build_ratspn(config, num_vars, sum_op_spec):
    """The config's RAT-SPN with every sum layer on `sum_op_spec`, weights ~ Dirichlet(alpha).

    The core's seeded Dirichlet initializer draws every layer from the same seed (layers of
    equal shape would start equal), so the weights are drawn here from one generator, layer by
    layer, from `config.seed`.
    """
    model = spnk.ratspn(num_vars, depth=config.depth, num_repetitions=config.num_repetitions,
                        num_input_distributions=config.num_input_distributions,
                        num_sums=config.num_sums, sum_op=make_op(sum_op_spec, 0),
                        seed=config.seed)
    model.build((None, num_vars))
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 3]))
    for layer in model.sum_layers:
        shape = tuple(layer.accumulators.shape)                       # [S, D, I, O]
        draws = rng.dirichlet(np.full(shape[2], config.init_alpha),
                              size=(shape[0], shape[1], shape[3]))  # [S, D, O, I]
        weights = np.maximum(np.moveaxis(draws, -1, 2), 1e-12)        # [S, D, I, O], no zeros
        weights /= weights.sum(axis=2, keepdims=True)
        value = np.log(weights) if layer.logspace_accumulators else weights
        layer.accumulators.assign(value.astype(np.float32))
    return model
