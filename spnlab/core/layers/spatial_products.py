"""Conv2DProduct: log-space products over (dilated, strided) image patches, as in DGC-SPNs.

A product node at output position (r, c) and channel o multiplies one node from every cell of
its kernel window; in log space it is a sum,

    y[b, r, c, o] = sum_(i, j) xp[b, r*sh + i*dh, c*sw + j*dw, k[i, j, o]]

where `xp` is the input padded with log 1 = 0 (a padded cell is a marginalised, empty scope),
(sh, sw) the strides, (dh, dw) the dilations and `k[i, j, o]` the input channel that cell (i, j)
contributes to output channel o (k[i, j, o] = o for depthwise products).

LibSPN-Keras computes this as a convolution with one-hot kernels. A kernel entry of 0 times a
log-value of -inf is NaN, so here the window cells are sliced out and gathered instead: every
term is an addition, and `-inf` inputs give `-inf` outputs, never NaN.
"""
import itertools
import math
import warnings

import keras
import numpy as np
import tensorflow as tf

from spnlab.core.layers.spatial import check_spatial_shape

register = keras.saving.register_keras_serializable(package="spnlab")

PADDINGS = ("valid", "full", "final")
# Asking for every channel combination beyond this many output channels is an error.
MAX_ALL_COMBINATIONS = 2 ** 16


def _pair(value, name):
    """An int or a pair of ints, each >= 1, as a list of two ints."""
    items = [value, value] if isinstance(value, (int, np.integer)) \
        and not isinstance(value, bool) else value
    try:
        items = list(items)
    except TypeError:
        items = None
    if items is None or len(items) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in items):
        raise ValueError(f"Expected `{name}` to be a positive int or a pair of positive ints. "
                         f"Received: {name}={value!r}")
    return [int(v) for v in items]


def conv_log_product(x, kernel_size, strides, dilations, pads, out_size, channels=None):
    """Log-space products over patches, by slicing and adding (see the module docstring).

    Args:
        x: log-values `[B, H, W, C_in]` with known H, W and C_in.
        kernel_size, strides, dilations: pairs (rows, cols).
        pads: (top, bottom, left, right) cells of log 1 = 0 added around the input.
        out_size: (rows, cols) of the output.
        channels: int `[kh, kw, C_out]`, the input channel of every cell and output channel;
            None for depthwise products (C_out = C_in, cell (i, j) contributes channel o to o).

    Returns:
        `[B, rows, cols, C_out]` log-values.
    """
    top, bottom, left, right = pads
    if any(pads):
        x = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])    # [B, H', W', C_in]
    (kh, kw), (rows, cols), chans = kernel_size, out_size, x.shape[-1]
    if list(strides) == list(kernel_size) and list(dilations) == [1, 1]:
        # Windows tile the image: a reshape finds them (several times faster than strided
        # slices on CPU, forward and backward).
        x = x[:, :rows * kh, :cols * kw]                                   # whole windows
        x = tf.reshape(x, [-1, rows, kh, cols, kw, chans])               # [B, r, kh, c, kw, C]
        if channels is None:
            return tf.reduce_sum(x, axis=[2, 4])                          # [B, rows, cols, C]

        def cell(i, j):
            return x[:, :, i, :, j, :]                                    # [B, rows, cols, C]
    else:
        def cell(i, j):
            r0, c0 = i * dilations[0], j * dilations[1]
            return x[:, r0:r0 + (rows - 1) * strides[0] + 1:strides[0],
                     c0:c0 + (cols - 1) * strides[1] + 1:strides[1], :]   # [B, rows, cols, C]
    out = None
    for i, j in itertools.product(range(kh), range(kw)):
        term = cell(i, j)                                                 # [B, rows, cols, C]
        if channels is not None:
            term = tf.gather(term, channels[i, j], axis=-1)               # [B, rows, cols, C_out]
        out = term if out is None else out + term
    return out


def channel_combinations(num_in, kernel_size, num_channels, rng):
    """Which input channel every kernel cell gives every output channel, `[kh, kw, C_out]`.

    As in LibSPN-Keras:
    - `num_channels` None or >= num_in**cells: all combinations, output channel
      `p = sum_k c_k num_in**k` with cell k = i * kw + j (the first cell least significant);
      more channels than combinations are capped with a warning.
    - num_in <= num_channels < num_in**cells: per cell an independent random permutation of
      `arange(num_channels) % num_in` (every input channel used equally often by each cell).
    - num_channels < num_in: a uniformly random channel per cell and output channel.
    """
    cells = kernel_size[0] * kernel_size[1]
    total = num_in ** cells
    if num_channels is None or num_channels >= total:
        if total > MAX_ALL_COMBINATIONS:
            raise ValueError(
                f"Conv2DProduct would make all {num_in}**{cells} = {total} channel combinations; "
                f"pass a smaller `num_channels`. Received: num_channels={num_channels!r}")
        if num_channels is not None and num_channels > total:
            warnings.warn(f"Conv2DProduct: num_channels={num_channels} exceeds the {total} "
                          f"channel combinations; using {total}.", stacklevel=3)
        p = np.arange(total)
        idx = np.stack([(p // num_in ** k) % num_in for k in range(cells)])    # [cells, total]
    elif num_channels >= num_in:
        idx = np.stack([rng.permutation(np.arange(num_channels) % num_in)
                        for _ in range(cells)])                                 # [cells, C_out]
    else:
        idx = rng.integers(num_in, size=(cells, num_channels))
    return idx.reshape(kernel_size[0], kernel_size[1], -1).astype(np.int32)


@register
class Conv2DProduct(keras.layers.Layer):
    """Products of the nodes in every (dilated, strided) kernel window of a spatial tensor.

    Input `[B, H, W, C_in]` log-values -> `[B, H_out, W_out, C_out]`, with
    `y[b, r, c, o] = sum_(i,j) xp[b, r*sh + i*dh, c*sw + j*dw, k[i, j, o]]` (see the module
    docstring). The effective kernel is `(kernel_size - 1) * dilations + 1` per axis and
    `H_out = ceil((pad_top + pad_bottom + H - effective_kh + 1) / sh)` (W alike).

    Args:
        strides: int or (rows, cols).
        dilations: int or (rows, cols).
        kernel_size: int or (rows, cols).
        num_channels: output channels of a non-depthwise product; None means every combination
            of input channels over the kernel cells (`C_in ** (kh * kw)`), fewer means a random
            selection (see `channel_combinations`). Ignored when `depthwise`.
        padding: "valid" (none), "full" (effective kernel - 1 on every side, for overlapping
            windows with growing dilations) or "final" (top `2 * (effective_kh - 1) - H`, left
            `2 * (effective_kw - 1) - W`, nothing bottom/right; for the top product of a
            DGC-SPN, whose outputs then all cover the whole image).
        depthwise: multiply channel c of every cell into output channel c (C_out = C_in).
        seed: optional int seed of the random channel selection (LibSPN-Keras used the global
            NumPy generator). The selection is a non-trainable int weight
            `channel_indices [kh, kw, C_out]`, so a saved model reloads with the same structure.
    """

    def __init__(self, strides, dilations, kernel_size, num_channels=None, padding="valid",
                 depthwise=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.strides = _pair(strides, "strides")
        self.dilations = _pair(dilations, "dilations")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        if num_channels is not None and (isinstance(num_channels, bool) or not isinstance(
                num_channels, (int, np.integer)) or num_channels < 1):
            raise ValueError("Expected `num_channels` to be None or a positive int. "
                             f"Received: num_channels={num_channels!r}")
        self.num_channels = None if num_channels is None else int(num_channels)
        if padding not in PADDINGS:
            raise ValueError(f"Expected `padding` in {PADDINGS}. Received: padding={padding!r}")
        self.padding = padding
        if not isinstance(depthwise, (bool, np.bool_)):
            raise TypeError(f"Expected `depthwise` to be a bool. Received: depthwise={depthwise!r}")
        self.depthwise = bool(depthwise)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"Expected `seed` to be None or an int. Received: seed={seed!r}")
        self.seed = seed

    # -- geometry ------------------------------------------------------------------------------
    def effective_kernel_size(self):
        """`(kernel_size - 1) * dilations + 1` per axis."""
        return [(k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilations)]

    def pad_sizes(self, rows, cols):
        """(top, bottom, left, right) padding for an input of `rows` x `cols`."""
        eff_h, eff_w = self.effective_kernel_size()
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "full":
            return (eff_h - 1, eff_h - 1, eff_w - 1, eff_w - 1)
        top = 2 * (eff_h - 1) - rows if self.kernel_size[0] > 1 else 0
        left = 2 * (eff_w - 1) - cols if self.kernel_size[1] > 1 else 0
        if top < 0 or left < 0:
            raise ValueError(
                f"Conv2DProduct(padding='final') needs an input no larger than twice the "
                f"effective kernel minus 2 ({2 * (eff_h - 1)} x {2 * (eff_w - 1)}). "
                f"Received: input of {rows} x {cols}")
        return (top, 0, left, 0)

    def _output_size(self, rows, cols):
        top, bottom, left, right = self.pad_sizes(rows, cols)
        eff_h, eff_w = self.effective_kernel_size()
        out = (math.ceil((top + bottom + rows - eff_h + 1) / self.strides[0]),
               math.ceil((left + right + cols - eff_w + 1) / self.strides[1]))
        if min(out) < 1:
            raise ValueError(f"Conv2DProduct: the effective kernel {eff_h} x {eff_w} does not fit "
                             f"the (padded) input. Received: input of {rows} x {cols}, "
                             f"padding={self.padding!r}")
        return out

    def _output_channels(self, num_in):
        if self.depthwise:
            return num_in
        total = num_in ** (self.kernel_size[0] * self.kernel_size[1])
        return total if self.num_channels is None else min(self.num_channels, total)

    # -- layer ---------------------------------------------------------------------------------
    def build(self, input_shape):
        check_spatial_shape(self, input_shape)
        _, rows, cols, chans = input_shape
        self._pads = self.pad_sizes(rows, cols)
        self._out_size = self._output_size(rows, cols)
        if self.depthwise:
            return
        idx = channel_combinations(chans, self.kernel_size, self.num_channels,
                                   np.random.default_rng(self.seed))
        self.channel_indices = self.add_weight(
            name="channel_indices", shape=idx.shape, dtype="int32", trainable=False,
            initializer=lambda *_, **__: tf.constant(idx, tf.int32))

    def call(self, x):
        channels = None if self.depthwise else tf.convert_to_tensor(self.channel_indices)
        return conv_log_product(x, self.kernel_size, self.strides, self.dilations, self._pads,
                                self._out_size, channels)

    def compute_output_shape(self, input_shape):
        check_spatial_shape(self, input_shape)
        b, rows, cols, chans = input_shape
        return (b,) + tuple(self._output_size(rows, cols)) + (self._output_channels(chans),)

    def get_config(self):
        return {**super().get_config(), "strides": self.strides, "dilations": self.dilations,
                "kernel_size": self.kernel_size, "num_channels": self.num_channels,
                "padding": self.padding, "depthwise": self.depthwise, "seed": self.seed}
