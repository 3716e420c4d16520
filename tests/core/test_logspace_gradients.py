"""Gradients through the log-space helpers: 0, never NaN, for probability-0 rows."""
import numpy as np
import tensorflow as tf

import spnlab.core as spnk
from spnlab.core.ops.logspace import logsumexp


def test_logsumexp_gradient_is_softmax_and_zero_for_all_minus_inf_rows():
    x = tf.constant([[0.0, np.log(3.0)], [-np.inf, -np.inf], [-np.inf, 1.0]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = logsumexp(x, axis=-1)
    g = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(y.numpy(), [np.log(4.0), -np.inf, 1.0])
    np.testing.assert_allclose(g, [[0.25, 0.75], [0.0, 0.0], [0.0, 1.0]])


def test_nll_of_a_probability_zero_sample_leaves_the_others_gradients_finite():
    """A root of -inf (a zero-probability row) must not turn the batch's gradients into NaN."""
    y_pred = tf.Variable([[0.0, -1.0], [-np.inf, -np.inf]], dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = spnk.losses.NegativeLogLikelihood()(tf.stop_gradient(y_pred), y_pred)
    g = tape.gradient(loss, y_pred).numpy()
    assert np.isfinite(g).all()
    p = np.exp([0.0, -1.0]) / np.exp([0.0, -1.0]).sum()
    np.testing.assert_allclose(g[0], -p / 2, rtol=1e-6)            # mean over the 2 rows
    np.testing.assert_array_equal(g[1], [0.0, 0.0])
