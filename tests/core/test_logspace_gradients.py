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


def test_all_zero_counts_give_uniform_categories_and_zero_weight_sums_not_nan():
    from spnlab.core.ops.logspace import normalize_log_weights
    leaf = spnk.layers.CategoricalLeaf(2, num_categories=4, use_accumulators=True)
    leaf.build((None, 3, 1, 1))
    params = np.random.default_rng(0).uniform(size=leaf.category_params.shape)
    params[0, 1, 0, 1] = 0.0                              # a component that no sample chose
    leaf.category_params.assign(params)
    log_p = leaf.log_probs().numpy()
    np.testing.assert_allclose(log_p[0, 1, 0, 1, 0], np.log(0.25))
    np.testing.assert_allclose(np.exp(log_p).sum(-1), 1.0, rtol=1e-6)
    acc = np.array([[0.0, 1.0], [0.0, 3.0]])              # column 0 all zero
    log_w = normalize_log_weights(tf.constant(acc), False).numpy()
    np.testing.assert_allclose(log_w[:, 1], np.log([0.25, 0.75]))
    assert np.all(log_w[:, 0] == -np.inf)
