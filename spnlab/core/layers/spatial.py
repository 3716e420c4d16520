"""Spatial tensors `[batch, rows, cols, channels]` and the step from them to region tensors.

Convolutional SPNs (DGC-SPNs, Van de Wolfshaar & Pronobis 2020) keep the image layout: a leaf
applied to `[B, H, W, C]` data gives `[B, H, W, K]` log-densities (each pixel is a scope, its
C values are modelled jointly by every component), `Conv2DProduct` joins neighbouring scopes,
`Local2DSum` / `Conv2DSum` mix the channels of each position, and `SpatialToRegions` hands the
top of the image to the region layers (`DenseSum`, `RootSum`).
"""
import keras
import tensorflow as tf

register = keras.saving.register_keras_serializable(package="spnlab")


def check_spatial_shape(layer, input_shape, known_axes=(1, 2, 3)):
    """Raise a ValueError unless `input_shape` is `[batch, rows, cols, channels]` with the
    sizes of `known_axes` known."""
    if len(input_shape) != 4 or any(input_shape[a] is None for a in known_axes):
        names = ", ".join(("batch", "rows", "cols", "channels")[a] for a in known_axes)
        raise ValueError(
            f"{type(layer).__name__} expects spatial inputs [batch, rows, cols, channels] with "
            f"known {names}. Received: input_shape={tuple(input_shape)}")


@register
class SpatialToRegions(keras.layers.Layer):
    """`[B, H, W, C]` -> `[B, 1, 1, H * W * C]`: every spatial node becomes a child of one region.

    A row-major reshape (node index `(h * W + w) * C + c`). Use it after the top
    `Conv2DProduct` of a DGC-SPN, whose nodes all cover the whole image, before a `DenseSum` or
    `RootSum`.
    """

    def build(self, input_shape):
        check_spatial_shape(self, input_shape)

    def call(self, x):
        _, rows, cols, chans = x.shape
        return tf.reshape(x, [-1, 1, 1, rows * cols * chans])             # [B, 1, 1, H*W*C]

    def compute_output_shape(self, input_shape):
        check_spatial_shape(self, input_shape)
        b, rows, cols, chans = input_shape
        return (b, 1, 1, rows * cols * chans)
