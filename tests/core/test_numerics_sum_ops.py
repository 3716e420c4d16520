"""The five sum ops' backward passes against NumPy formulas and finite differences (float64)."""
import numpy as np
import pytest
import tensorflow as tf

import spnlab.core as spnk

B, S, D, I, O = 5, 2, 3, 4, 3


def random_case(seed, logspace=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, S, D, I))
    acc = rng.dirichlet(np.ones(I), size=(S, D, O)).transpose(0, 1, 3, 2)     # [S, D, I, O]
    if logspace:
        acc = np.log(acc) + rng.normal(size=acc.shape)                          # unnormalised
    return x, acc


def np_log_weights(acc, logspace):
    w = np.exp(acc) if logspace else acc
    return np.log(w / w.sum(axis=-2, keepdims=True))


def np_posteriors(x, log_w):
    """p[b,s,d,i,j] = exp(x_i + l_ij - y_j) and y `[B, S, D, O]` by explicit sums."""
    joint = x[..., :, None] + log_w[None]                                        # [B,S,D,I,O]
    y = np.log(np.exp(joint).sum(axis=-2))
    return np.exp(joint - y[..., None, :]), y


def signals(op, x, acc, logspace, dy):
    x_t, acc_t = tf.constant(x), tf.constant(acc)
    with tf.GradientTape() as tape:
        tape.watch([x_t, acc_t])
        y = op.weighted_sum(x_t, acc_t, logspace)
    dx, dacc = tape.gradient(y, [x_t, acc_t], output_gradients=tf.constant(dy))
    return y.numpy(), dx.numpy(), dacc.numpy()


@pytest.mark.parametrize("op", [spnk.SumOpGradBackprop(), spnk.SumOpEMBackprop(),
                                spnk.SumOpHardEMBackprop(seed=0),
                                spnk.SumOpUnweightedHardEMBackprop(seed=0),
                                spnk.SumOpSampleBackprop(seed=0)], ids=lambda o: type(o).__name__)
def test_every_op_has_the_same_forward_value(op):
    x, acc = random_case(0)
    _, y_ref = np_posteriors(x, np_log_weights(acc, False))
    y = op.weighted_sum(tf.constant(x), tf.constant(acc), False).numpy()
    np.testing.assert_allclose(y, y_ref, rtol=1e-10)


@pytest.mark.parametrize("logspace", [True, False])
def test_gradient_op_matches_finite_differences(logspace):
    x, acc = random_case(1, logspace)
    coef = np.random.default_rng(2).normal(size=(B, S, D, O))
    op = spnk.SumOpGradBackprop(logspace_accumulators=logspace)

    def f(x_, acc_):
        return float(np.sum(coef * op.weighted_sum(tf.constant(x_), tf.constant(acc_),
                                                   logspace).numpy()))

    _, dx, dacc = signals(op, x, acc, logspace, coef)
    eps = 1e-6
    for arr, grad in ((x, dx), (acc, dacc)):
        fd = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            hi, lo = arr.copy(), arr.copy()
            hi[idx] += eps
            lo[idx] -= eps
            args_hi = (hi, acc) if arr is x else (x, hi)
            args_lo = (lo, acc) if arr is x else (x, lo)
            fd[idx] = (f(*args_hi) - f(*args_lo)) / (2 * eps)
        np.testing.assert_allclose(grad, fd, atol=1e-6)


def test_soft_em_signals_are_brute_force_posterior_counts():
    x, acc = random_case(3)
    dy = -np.abs(np.random.default_rng(4).normal(size=(B, S, D, O)))
    p, _ = np_posteriors(x, np_log_weights(acc, False))
    _, dx, dacc = signals(spnk.SumOpEMBackprop(), x, acc, False, dy)
    np.testing.assert_allclose(dx, np.einsum("bsdj,bsdij->bsdi", dy, p), rtol=1e-10)
    counts = -np.einsum("bsdj,bsdij->sdij", dy, p)                       # n[i, j] >= 0
    np.testing.assert_allclose(-dacc, counts, rtol=1e-10)   # normalised by the optimiser


def test_hard_em_winners_are_the_explicit_argmax():
    x, acc = random_case(5)
    rng = np.random.default_rng(6)
    dy = np.where(rng.random((B, S, D, O)) < 0.5, -rng.random((B, S, D, O)), 0.0)
    log_w = np_log_weights(acc, False)
    winners = np.argmax(x[..., :, None] + log_w[None], axis=-2)          # [B, S, D, O]
    exp_dx = np.zeros_like(x)
    exp_dacc = np.zeros_like(acc)
    for b, s, d, j in np.ndindex(dy.shape):
        exp_dx[b, s, d, winners[b, s, d, j]] += dy[b, s, d, j]
        exp_dacc[s, d, winners[b, s, d, j], j] += dy[b, s, d, j]
    _, dx, dacc = signals(spnk.SumOpHardEMBackprop(seed=0), x, acc, False, dy)
    np.testing.assert_allclose(dx, exp_dx, atol=1e-12)
    np.testing.assert_allclose(dacc, exp_dacc, atol=1e-12)


def test_unweighted_winners_ignore_the_weights():
    x, acc = random_case(7)
    dy = -np.random.default_rng(8).random((B, S, D, O))
    winners = np.argmax(x, axis=-1)                                      # [B, S, D]
    one_hot = np.eye(I)[winners]
    exp_dx = one_hot * dy.sum(-1, keepdims=True)
    exp_dacc = np.einsum("bsdi,bsdj->sdij", one_hot, dy)
    other_acc = np.random.default_rng(9).dirichlet(np.ones(I), size=(S, D, O)).transpose(0, 1, 3, 2)
    for weights in (acc, other_acc):
        _, dx, dacc = signals(spnk.SumOpUnweightedHardEMBackprop(seed=0), x, weights, False, dy)
        np.testing.assert_allclose(dx, exp_dx, atol=1e-12)
        np.testing.assert_allclose(dacc, exp_dacc, atol=1e-12)


def test_ties_are_broken_uniformly():
    n = 4000
    x = np.zeros((n, 1, 1, 3))                        # three equal children
    acc = np.full((1, 1, 3, 1), 1.0 / 3)
    _, dx, _ = signals(spnk.SumOpHardEMBackprop(seed=3), x, acc, False, -np.ones((n, 1, 1, 1)))
    freq = (dx[:, 0, 0] != 0).mean(axis=0)
    np.testing.assert_allclose(freq, [1 / 3] * 3, atol=4 * np.sqrt(2 / 9 / n))


def sample_frequencies(op, x_row, acc, n=20000):
    x = np.tile(x_row, (n, 1, 1, 1))
    _, dx, _ = signals(op, x, acc, False, -np.ones((n, 1, 1, 1)))
    return (dx[:, 0, 0] != 0).mean(axis=0)


def test_sample_op_frequencies_match_the_child_posterior():
    x_row = np.log(np.array([0.2, 0.5, 0.3]))[None, None, None]
    acc = np.array([0.5, 0.2, 0.3])[None, None, :, None]
    post = np.array([0.1, 0.1, 0.09]) / 0.29
    freq = sample_frequencies(spnk.SumOpSampleBackprop(seed=11), x_row, acc)
    np.testing.assert_allclose(freq, post, atol=4 * np.sqrt(0.25 / 20000))


def test_hard_em_sample_prob_mixes_argmax_and_posterior_draws():
    x_row = np.log(np.array([0.2, 0.5, 0.3]))[None, None, None]
    acc = np.array([0.5, 0.2, 0.3])[None, None, :, None]
    post = np.array([0.1, 0.1, 0.09]) / 0.29
    # children 0 and 1 tie in weighted value (0.2 * 0.5 = 0.5 * 0.2); argmax splits them evenly
    argmax = np.array([0.5, 0.5, 0.0])
    freq = sample_frequencies(spnk.SumOpHardEMBackprop(sample_prob=0.4, seed=12), x_row, acc)
    np.testing.assert_allclose(freq, 0.6 * argmax + 0.4 * post, atol=4 * np.sqrt(0.25 / 20000))


def test_unweighted_sample_prob_draws_from_the_unweighted_children():
    x_row = np.log(np.array([0.2, 0.5, 0.3]))[None, None, None]
    acc = np.array([0.9, 0.05, 0.05])[None, None, :, None]
    freq = sample_frequencies(spnk.SumOpUnweightedHardEMBackprop(sample_prob=1.0, seed=13),
                              x_row, acc)
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=4 * np.sqrt(0.25 / 20000))


@pytest.mark.parametrize("op", [spnk.SumOpGradBackprop(logspace_accumulators=False),
                                spnk.SumOpEMBackprop(), spnk.SumOpHardEMBackprop(seed=0),
                                spnk.SumOpUnweightedHardEMBackprop(seed=0),
                                spnk.SumOpSampleBackprop(seed=0)], ids=lambda o: type(o).__name__)
def test_minus_infinity_gives_minus_infinity_and_no_nan(op):
    x, acc = random_case(14)
    x[0] = -np.inf                       # a sample every child gives probability 0
    x[1, :, :, :2] = -np.inf             # some children impossible
    dy = -np.ones((B, S, D, O)) / B
    y, dx, dacc = signals(op, x, acc, False, dy)
    assert np.all(y[0] == -np.inf) and np.all(np.isfinite(y[1:]))
    assert not np.any(np.isnan(dx)) and not np.any(np.isnan(dacc))
    if isinstance(op, (spnk.SumOpGradBackprop, spnk.SumOpEMBackprop)):
        assert np.all(dx[0] == 0) and np.all(dx[1, :, :, :2] == 0)


@pytest.mark.parametrize("make_op", [
    lambda: spnk.SumOpGradBackprop(), lambda: spnk.SumOpGradBackprop(logspace_accumulators=False),
    lambda: spnk.SumOpEMBackprop(), lambda: spnk.SumOpHardEMBackprop(seed=3),
    lambda: spnk.SumOpUnweightedHardEMBackprop(seed=3), lambda: spnk.SumOpSampleBackprop(seed=3)],
    ids=["grad-log", "grad-linear", "em", "hard", "unweighted", "sample"])
def test_node_major_entry_gives_the_layer_layout_values_and_signals(make_op):
    """`weighted_sum_node_major` on `[G, I, B]` (G = S * D sums) equals `weighted_sum` on
    `[B, S, D, I]`: values, child signals and accumulator signals, with -inf children and a
    row whose children are all -inf. Random ops use the same seed (draws in the same order)."""
    logspace = make_op().default_logspace_accumulators()
    x, acc = random_case(9, logspace)
    x[0, 0, 0, :] = -np.inf                                            # probability 0
    x[1, 1, 2, 1] = -np.inf
    dy = -np.abs(np.random.default_rng(10).normal(size=(B, S, D, O)))
    y, dx, dacc = signals(make_op(), x, acc, logspace, dy)
    x_nm = tf.constant(x.reshape(B, S * D, I).transpose(1, 2, 0))             # [G, I, B]
    acc_nm = tf.constant(acc.reshape(S * D, I, O))
    with tf.GradientTape() as tape:
        tape.watch([x_nm, acc_nm])
        y_nm = make_op().weighted_sum_node_major(x_nm, acc_nm, logspace)       # [G, O, B]
    dy_nm = tf.constant(dy.reshape(B, S * D, O).transpose(1, 2, 0))
    dx_nm, dacc_nm = tape.gradient(y_nm, [x_nm, acc_nm], output_gradients=dy_nm)
    back = lambda t, last: t.numpy().transpose(2, 0, 1).reshape(B, S, D, last)  # noqa: E731
    np.testing.assert_allclose(back(y_nm, O), y, rtol=1e-12)
    np.testing.assert_allclose(back(dx_nm, I), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dacc_nm.numpy().reshape(S, D, I, O), dacc, rtol=1e-10,
                               atol=1e-12)
    assert not np.isnan(dx_nm.numpy()).any() and not np.isnan(dacc_nm.numpy()).any()
