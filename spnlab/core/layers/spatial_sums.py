"""Spatial sum layers: Local2DSum (weights per position) and Conv2DSum (weights shared).

Both mix the channels of each position of a spatial tensor `[B, H, W, C]` into `num_sums` new
channels, `y[b,h,w,j] = log sum_c exp(x[b,h,w,c] + log w[., ., c, j])`, and both hand the
computation to the layer's sum op (`SumOpBase.weighted_sum`), so all five sum ops work with
their own backward passes:

- `Local2DSum` is a dense sum with rows as scopes and columns as decomps: the input is passed
  as it is, with accumulators `[H, W, C, num_sums]`.
- `Conv2DSum` folds the positions into the batch axis, `[B*H*W, 1, 1, C]`, against accumulators
  `[1, 1, C, num_sums]`, so every position is one more sample of the same sums (EM counts and
  winners add up over positions, as weight sharing requires).
"""
import keras
import tensorflow as tf

from spnlab.core.layers.spatial import check_spatial_shape
from spnlab.core.layers.sum_layers import SumsPerPosition

register = keras.saving.register_keras_serializable(package="spnlab")


class _SpatialSum(SumsPerPosition):
    """Argument checks, shapes and config shared by the two spatial sum layers."""

    # Input axes whose sizes must be known to build (rows, cols, channels).
    _known_axes = (1, 2, 3)

    def build(self, input_shape):
        check_spatial_shape(self, input_shape, self._known_axes)
        self._add_accumulators(self._accumulator_shape(input_shape))

    def _accumulator_shape(self, input_shape):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        check_spatial_shape(self, input_shape, self._known_axes)
        return tuple(input_shape[:-1]) + (self.num_sums,)


@register
class Local2DSum(_SpatialSum):
    """`num_sums` sums at every position, each position with its own weights.

    Input `[B, H, W, C]` -> output `[B, H, W, num_sums]`; accumulators `[H, W, C, num_sums]`
    (as in LibSPN-Keras), normalised over the channels:
    `y[b,h,w,j] = log sum_c exp(x[b,h,w,c] + log w[h,w,c,j])`.

    Args:
        num_sums: sums per position (the output channels).
        logspace_accumulators, accumulator_initializer, sum_op, accumulator_regularizer,
        logspace_accumulator_constraint, linear_accumulator_constraint: as in `DenseSum`.
    """

    def _accumulator_shape(self, input_shape):
        _, rows, cols, chans = input_shape
        return [rows, cols, chans, self.num_sums]

    def call(self, x):
        # Rows play scopes and columns decomps: exactly a dense sum layer's layout.
        return self.sum_op.weighted_sum(x, tf.convert_to_tensor(self.accumulators),
                                        self.logspace_accumulators)          # [B, H, W, O]


@register
class Conv2DSum(_SpatialSum):
    """`num_sums` sums at every position, all positions sharing one set of weights.

    Input `[B, H, W, C]` -> output `[B, H, W, num_sums]`; accumulators `[1, 1, C, num_sums]`
    (as in LibSPN-Keras), normalised over the channels:
    `y[b,h,w,j] = log sum_c exp(x[b,h,w,c] + log w[0,0,c,j])` (a log-space 1x1 convolution).
    H and W may be unknown.

    Args:
        num_sums: sums per position (the output channels).
        logspace_accumulators, accumulator_initializer, sum_op, accumulator_regularizer,
        logspace_accumulator_constraint, linear_accumulator_constraint: as in `DenseSum`.
    """

    _known_axes = (3,)

    def _accumulator_shape(self, input_shape):
        return [1, 1, input_shape[3], self.num_sums]

    def call(self, x):
        shape = tf.shape(x)
        rows = x.shape[1] if x.shape[1] is not None else shape[1]
        cols = x.shape[2] if x.shape[2] is not None else shape[2]
        # Every position becomes a row of the batch: weight signals add up over positions.
        flat = tf.reshape(x, [-1, 1, 1, x.shape[3]])                          # [B*H*W, 1, 1, C]
        y = self.sum_op.weighted_sum(flat, tf.convert_to_tensor(self.accumulators),
                                     self.logspace_accumulators)             # [B*H*W, 1, 1, O]
        return tf.reshape(y, [-1, rows, cols, self.num_sums])                 # [B, H, W, O]
