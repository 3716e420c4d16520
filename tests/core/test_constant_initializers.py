"""LibSPN-Keras programs pass `keras.initializers.Constant(array)` with as many entries as the
variable but not its shape (4 root weights for a `[1, 1, 4, 1]` accumulator). tf.keras reshaped
such a value; Keras 3 broadcasts it and the build fails. spnlab's layers reshape it, and refuse
anything that neither has that many entries nor broadcasts, naming both shapes."""
import keras
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.core.initializers import ReshapedConstant


def test_root_weights_given_as_a_flat_array_mix_the_children_with_those_weights():
    weights = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    root = spnk.layers.RootSum(accumulator_initializer=keras.initializers.Constant(weights),
                               logspace_accumulators=False, return_weighted_child_logits=False)
    children = np.log(np.array([[[[0.5, 0.25, 0.2, 0.1]]], [[[0.9, 0.3, 0.6, 0.05]]]],
                               np.float32))                         # [B, 1, 1, 4]
    out = root(children).numpy()[:, 0]
    assert tuple(root.accumulators.shape) == (1, 1, 4, 1)
    expected = np.log(np.exp(children[:, 0, 0, :]) @ weights)      # sum_i w_i p_i
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_dense_sum_weights_fill_the_accumulator_in_row_major_order():
    values = np.arange(1.0, 7.0)                                     # [1, 1, 3, 2]: 6 entries
    layer = spnk.layers.DenseSum(2, accumulator_initializer=keras.initializers.Constant(values),
                                 logspace_accumulators=False)
    layer.build((None, 1, 1, 3))
    stored = layer.accumulators.numpy()
    raw = values.reshape(1, 1, 3, 2)
    np.testing.assert_allclose(stored, raw / raw.sum(axis=2, keepdims=True), rtol=1e-6)
    # a scalar still fills the variable, and the layer's config keeps the initializer
    flat = spnk.layers.DenseSum(2, accumulator_initializer=keras.initializers.Constant(0.5))
    assert isinstance(flat.accumulator_initializer, ReshapedConstant)
    again = spnk.layers.DenseSum.from_config(layer.get_config())
    again.build((None, 1, 1, 3))
    np.testing.assert_allclose(again.accumulators.numpy(), stored, rtol=1e-6)


def test_a_constant_that_neither_fits_nor_broadcasts_is_named():
    layer = spnk.layers.DenseSum(2, accumulator_initializer=keras.initializers.Constant(
        np.ones(5)), logspace_accumulators=False)
    with pytest.raises(ValueError, match=r"6 entries.*\[1, 1, 3, 2\].*\[5\]"):
        layer.build((None, 1, 1, 3))
    row = ReshapedConstant(np.array([1.0, 2.0]))(shape=(1, 1, 3, 2))   # broadcasts as before
    np.testing.assert_array_equal(row.numpy()[0, 0], [[1, 2], [1, 2], [1, 2]])
