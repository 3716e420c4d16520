"""Running a layer stack with every `DenseProduct -> DenseSum` pair fused into one pass.

A `DenseProduct(F)` followed by a `DenseSum` is computed by `SumOpBase.weighted_product_sum`:
the product's `[B, S, D, N**F]` log-values are never formed, and with them go the largest
exp, transpose and memory traffic of a RAT-SPN step. Values and signals are those of the two
layers; only the intermediate product tensor is not there to look at (run unfused for that).
"""
from spnlab.core.layers.products import DenseProduct
from spnlab.core.layers.sum_layers import DenseSum


class FusedProductSum:
    """`sum_layer(product(x))` in one pass. Input `[B, S*F, D, N]`, output `[B, S, D, num_sums]`."""

    def __init__(self, product, sum_layer):
        self.product, self.sum_layer = product, sum_layer
        self.layers = (product, sum_layer)

    def __call__(self, x, training=None):
        if not self.product.built:
            self.product.build(tuple(x.shape))
        if not self.sum_layer.built:
            self.sum_layer.build(self.product.compute_output_shape(tuple(x.shape)))
        return self.sum_layer.call_on_product(x, self.product.num_factors)

    def __repr__(self):
        return f"FusedProductSum({self.product.name!r}, {self.sum_layer.name!r})"


def fused_steps(layers, fuse=True):
    """The layers in order, each `DenseProduct` directly followed by a `DenseSum` replaced by
    one `FusedProductSum` step (all layers as they are when `fuse` is False)."""
    layers, steps, i = list(layers), [], 0
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if fuse and type(layer) is DenseProduct and type(nxt) is DenseSum:
            steps.append(FusedProductSum(layer, nxt))
            i += 2
        else:
            steps.append(layer)
            i += 1
    return steps


def call_step(step, x, training=None):
    """Call one step (a layer or a fused pair), passing `training` to layers that take it."""
    if isinstance(step, FusedProductSum):
        return step(x)
    if training is not None and getattr(step, "_call_has_training_arg", False):
        return step(x, training=training)
    return step(x)
