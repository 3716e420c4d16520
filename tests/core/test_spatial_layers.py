"""Spatial (DGC-SPN) layers: Conv2DProduct, Local2DSum, Conv2DSum, SpatialToRegions.

Every layer is checked against a NumPy loop reference written from the documented formulas
(never from the layer code), with -inf entries in the inputs; the sum layers' backward signals
under all five sum ops against brute-force posteriors, winners and finite differences; small
DGC-SPNs over 4x4 binary images for normalisation (all 2**16 states), brute-force marginals and
monotone full-batch soft EM; and the Keras contract (config and `.keras` round trips).
"""
import itertools
import math

import keras
import numpy as np
import pytest
import scipy.special
import tensorflow as tf

import spnlab.core as spnk
from spnlab.core import layers as L
from tests.core.test_layer_contract import (EXPECTED_LOGSPACE, SUM_OPS, assert_close,
                                            check_layer_contract, np_log_weights)

NEG_INF = -np.inf


def spatial_input(shape, seed, num_neg_inf=3):
    """Float log-values `[B, H, W, C]` with a few -inf entries."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype("float32")
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, num_neg_inf, replace=False)] = NEG_INF
    return x


# ---------------------------------------------------------------------------------------------
# NumPy references (loops over the documented formulas)
# ---------------------------------------------------------------------------------------------
def np_pads(padding, kernel_size, dilations, rows, cols):
    """(top, bottom, left, right) as documented for LibSPN-Keras' Conv2DProduct."""
    eff = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilations)]
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "full":
        return eff[0] - 1, eff[0] - 1, eff[1] - 1, eff[1] - 1
    top = 2 * (eff[0] - 1) - rows if kernel_size[0] > 1 else 0
    left = 2 * (eff[1] - 1) - cols if kernel_size[1] > 1 else 0
    return top, 0, left, 0


def np_conv_product(x, kernel_size, strides, dilations, padding, channels):
    """y[b,r,c,o] = sum_ij xp[b, r*sh + i*dh, c*sw + j*dw, channels[i,j,o]] (xp padded with 0).

    channels None: depthwise (channels[i, j, o] = o)."""
    B, H, W, C = x.shape
    top, bottom, left, right = np_pads(padding, kernel_size, dilations, H, W)
    xp = np.zeros((B, H + top + bottom, W + left + right, C))
    xp[:, top:top + H, left:left + W] = x
    eff = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilations)]
    rows = math.ceil((xp.shape[1] - eff[0] + 1) / strides[0])
    cols = math.ceil((xp.shape[2] - eff[1] + 1) / strides[1])
    c_out = C if channels is None else channels.shape[-1]
    y = np.zeros((B, rows, cols, c_out))
    for b, r, c, o in itertools.product(range(B), range(rows), range(cols), range(c_out)):
        for i, j in itertools.product(range(kernel_size[0]), range(kernel_size[1])):
            ch = o if channels is None else channels[i, j, o]
            y[b, r, c, o] += xp[b, r * strides[0] + i * dilations[0],
                                c * strides[1] + j * dilations[1], ch]
    return y


def np_spatial_sum(x, log_w):
    """y[b,h,w,j] = logsumexp_c x[b,h,w,c] + log_w[h,w,c,j] (log_w broadcast over h, w)."""
    B, H, W, C = x.shape
    log_w = np.broadcast_to(log_w, (H, W) + log_w.shape[2:])
    y = np.zeros((B, H, W, log_w.shape[-1]))
    for b, h, w, j in itertools.product(range(B), range(H), range(W), range(log_w.shape[-1])):
        y[b, h, w, j] = scipy.special.logsumexp(x[b, h, w].astype(np.float64) + log_w[h, w, :, j])
    return y


# ---------------------------------------------------------------------------------------------
# Conv2DProduct
# ---------------------------------------------------------------------------------------------
PRODUCT_CASES = {
    # name: (kwargs, input shape)
    "depthwise_2x2_stride2": (dict(strides=2, dilations=1, kernel_size=2, depthwise=True),
                              (3, 4, 4, 2)),
    "depthwise_odd_size_ceil": (dict(strides=[2, 2], dilations=[1, 1], kernel_size=[2, 2],
                                     depthwise=True), (2, 5, 3, 2)),
    "all_combinations": (dict(strides=1, dilations=1, kernel_size=2), (2, 3, 3, 2)),
    "tiles_random_subset": (dict(strides=2, dilations=1, kernel_size=2, num_channels=6, seed=2),
                            (2, 4, 5, 3)),
    "tiles_full_all_combinations": (dict(strides=2, dilations=1, kernel_size=2, padding="full"),
                                    (2, 3, 3, 2)),
    "random_subset_balanced": (dict(strides=1, dilations=1, kernel_size=2, num_channels=5,
                                    seed=3), (2, 3, 4, 3)),
    "random_subset_small": (dict(strides=1, dilations=1, kernel_size=[1, 2], num_channels=2,
                                 seed=4), (2, 3, 3, 3)),
    "full_dilated": (dict(strides=1, dilations=2, kernel_size=2, padding="full",
                          num_channels=4, seed=5), (2, 3, 3, 2)),
    "full_rect_kernel": (dict(strides=[1, 2], dilations=[1, 1], kernel_size=[2, 3],
                              padding="full", depthwise=True), (2, 3, 4, 2)),
    "final": (dict(strides=1, dilations=2, kernel_size=2, padding="final"), (2, 3, 3, 2)),
    "final_1xk": (dict(strides=1, dilations=[1, 4], kernel_size=[1, 2], padding="final",
                       depthwise=True), (2, 2, 5, 2)),
}


@pytest.mark.parametrize("case", list(PRODUCT_CASES))
def test_conv2d_product_matches_loop_reference(tmp_path, case):
    kwargs, shape = PRODUCT_CASES[case]
    x = spatial_input(shape, seed=len(case))
    layer = L.Conv2DProduct(**kwargs)
    y = check_layer_contract(layer, x, tmp_path)
    channels = None if layer.depthwise else layer.channel_indices.numpy()
    expected = np_conv_product(x, layer.kernel_size, layer.strides, layer.dilations,
                               layer.padding, channels)
    assert_close(y, expected)                     # also: -inf exactly where expected, no NaN
    assert np.isneginf(y).any()


def test_conv2d_product_channel_selection():
    x = np.zeros((1, 3, 3, 3), "float32")
    # all combinations, first kernel cell least significant (LibSPN-Keras order)
    layer = L.Conv2DProduct(1, 1, 2)
    layer(x)
    idx = layer.channel_indices.numpy().reshape(4, -1)                  # [cells, 81]
    for p in range(81):
        assert [idx[k, p] for k in range(4)] == [(p // 3 ** k) % 3 for k in range(4)]
    # num_in <= num_channels < total: every cell uses every input channel equally often
    layer = L.Conv2DProduct(1, 1, 2, num_channels=6, seed=0)
    layer(x)
    idx = layer.channel_indices.numpy()
    for i, j in itertools.product(range(2), range(2)):
        assert np.bincount(idx[i, j], minlength=3).tolist() == [2, 2, 2]
    # the seed makes the random selection reproducible, and it is saved as a weight
    again = L.Conv2DProduct(1, 1, 2, num_channels=6, seed=0)
    again(x)
    np.testing.assert_array_equal(again.channel_indices.numpy(), idx)
    assert not layer.trainable_weights and len(layer.non_trainable_weights) == 1
    # more channels than combinations: capped, with a warning
    with pytest.warns(UserWarning, match="exceeds"):
        capped = L.Conv2DProduct(1, 1, [1, 2], num_channels=20)
        assert capped(x).shape == (1, 3, 2, 9)


def test_conv2d_product_minus_infinity_gives_no_nan_in_values_or_gradients():
    x = np.full((2, 4, 4, 2), NEG_INF, "float32")
    x[0, :2, :2] = 0.5                                    # one window fully finite
    layer = L.Conv2DProduct(1, 1, 2, num_channels=3, seed=0, padding="full")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        total = tf.reduce_sum(tf.where(tf.math.is_finite(y), y, 0.0))
    g = tape.gradient(total, xt).numpy()
    assert not np.isnan(y.numpy()).any() and not np.isnan(g).any()
    assert np.isfinite(y.numpy()).any() and np.isneginf(y.numpy()).any()


# ---------------------------------------------------------------------------------------------
# Local2DSum, Conv2DSum, SpatialToRegions
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op_name", list(SUM_OPS))
@pytest.mark.parametrize("cls", ["Local2DSum", "Conv2DSum"])
def test_spatial_sums_match_loop_reference(tmp_path, cls, op_name):
    layer = getattr(L, cls)(3, sum_op=SUM_OPS[op_name]())
    assert layer.logspace_accumulators is EXPECTED_LOGSPACE[op_name]
    x = spatial_input((2, 3, 2, 4), seed=7)
    x[1, 2, 0, :] = NEG_INF                                # a position with probability 0
    y = check_layer_contract(layer, x, tmp_path)
    acc = layer.accumulators.numpy()
    assert acc.shape == ((3, 2, 4, 3) if cls == "Local2DSum" else (1, 1, 4, 3))
    log_w = np_log_weights(acc, layer.logspace_accumulators)
    np.testing.assert_allclose(scipy.special.logsumexp(log_w, axis=-2), 0.0, atol=1e-6)
    assert_close(y, np_spatial_sum(x, log_w))
    assert np.isneginf(y[1, 2, 0]).all()


def test_conv2d_sum_accepts_unknown_rows_and_cols():
    layer = L.Conv2DSum(2)
    x = spatial_input((2, 3, 5, 3), seed=8, num_neg_inf=0)
    fn = tf.function(layer, input_signature=[tf.TensorSpec([None, None, None, 3])])
    y = fn(x).numpy()
    assert layer.compute_output_shape((None, None, None, 3)) == (None, None, None, 2)
    log_w = np_log_weights(layer.accumulators.numpy(), layer.logspace_accumulators)
    assert_close(y, np_spatial_sum(x, log_w))
    assert_close(fn(x[:, :2, :1]).numpy(), y[:, :2, :1])   # another image size, same weights


def test_spatial_to_regions(tmp_path):
    x = spatial_input((3, 2, 3, 4), seed=9)
    y = check_layer_contract(L.SpatialToRegions(), x, tmp_path)
    expected = np.zeros((3, 1, 1, 24), np.float32)
    for b, h, w, c in itertools.product(range(3), range(2), range(3), range(4)):
        expected[b, 0, 0, (h * 3 + w) * 4 + c] = x[b, h, w, c]
    assert_close(y, expected)


# ---------------------------------------------------------------------------------------------
# backward signals of the spatial sums under every sum op
# ---------------------------------------------------------------------------------------------
def _signals(layer, x, dy):
    """(dx, d_accumulators) for the upstream signal dy: the gradient of sum(dy * layer(x))."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(dy * layer(xt))
    dx, dacc = tape.gradient(total, [xt, layer.accumulators])
    return dx.numpy().astype(np.float64), dacc.numpy().astype(np.float64)


def _to_acc_shape(g, cls):
    """A per-position weight signal `[H, W, C, O]` as the layer's accumulator signal."""
    return g if cls == "Local2DSum" else g.sum(axis=(0, 1), keepdims=True)


def _signal_case(cls, op):
    layer = getattr(L, cls)(3, sum_op=op)
    x = spatial_input((3, 2, 3, 4), seed=11, num_neg_inf=4)
    layer(x)
    dy = -np.random.default_rng(12).uniform(0.1, 1.0, size=(3, 2, 3, 3)).astype("float32")
    log_w = np.broadcast_to(np_log_weights(layer.accumulators.numpy(), layer.logspace_accumulators),
                            (2, 3, 4, 3))
    scores = x[..., :, None].astype(np.float64) + log_w                        # [B, H, W, C, O]
    return layer, x, dy, log_w, scores


@pytest.mark.parametrize("cls", ["Local2DSum", "Conv2DSum"])
def test_gradient_op_matches_finite_differences(cls):
    layer, x, dy, _, _ = _signal_case(cls, spnk.SumOpGradBackprop())
    acc = layer.accumulators.numpy().astype(np.float64)
    dx, dacc = _signals(layer, x, dy)

    def f(x_, acc_):                     # the float64 reference objective sum(dy * y)
        log_w = acc_ - scipy.special.logsumexp(acc_, axis=-2, keepdims=True)    # [., ., C, O]
        y = scipy.special.logsumexp(x_[..., :, None] + log_w, axis=-2)         # [B, H, W, O]
        return float((dy * y).sum())

    eps = 1e-6
    num_dacc = np.zeros_like(acc)
    for idx in np.ndindex(acc.shape):
        step = np.zeros_like(acc)
        step[idx] = eps
        num_dacc[idx] = (f(x, acc + step) - f(x, acc - step)) / (2 * eps)
    np.testing.assert_allclose(dacc, num_dacc, atol=2e-5, rtol=1e-4)
    x64 = x.astype(np.float64)
    num_dx = np.zeros_like(x64)
    for idx in zip(*np.nonzero(np.isfinite(x64))):
        step = np.zeros_like(x64)
        step[idx] = eps
        num_dx[idx] = (f(x64 + step, acc) - f(x64 - step, acc)) / (2 * eps)
    np.testing.assert_allclose(dx, num_dx, atol=2e-5, rtol=1e-4)   # 0 at the -inf entries


@pytest.mark.parametrize("cls", ["Local2DSum", "Conv2DSum"])
def test_soft_em_signals_are_posterior_counts(cls):
    layer, x, dy, _, scores = _signal_case(cls, spnk.SumOpEMBackprop())
    post = np.exp(scores - scipy.special.logsumexp(scores, axis=-2, keepdims=True))
    dx, dacc = _signals(layer, x, dy)
    np.testing.assert_allclose(dx, (dy[..., None, :] * post).sum(-1), atol=1e-6)
    np.testing.assert_allclose(dacc, _to_acc_shape((dy[..., None, :] * post).sum(0), cls),
                               atol=1e-5)


@pytest.mark.parametrize("cls", ["Local2DSum", "Conv2DSum"])
@pytest.mark.parametrize("weighted", [True, False])
def test_hard_em_signals_follow_the_explicit_argmax(cls, weighted):
    op = spnk.SumOpHardEMBackprop(seed=0) if weighted else \
        spnk.SumOpUnweightedHardEMBackprop(seed=0)
    layer, x, dy, _, scores = _signal_case(cls, op)
    if not weighted:                     # one winner per position, shared by all its sums
        scores = np.broadcast_to(x[..., :, None].astype(np.float64), scores.shape)
    winners = np.argmax(scores, axis=-2)                                        # [B, H, W, O]
    one_hot = np.moveaxis(np.eye(4)[winners], -1, -2)                          # [B, H, W, C, O]
    dx, dacc = _signals(layer, x, dy)
    np.testing.assert_allclose(dx, (dy[..., None, :] * one_hot).sum(-1), atol=1e-6)
    np.testing.assert_allclose(dacc, _to_acc_shape((dy[..., None, :] * one_hot).sum(0), cls),
                               atol=1e-6)


@pytest.mark.parametrize("cls", ["Local2DSum", "Conv2DSum"])
def test_sample_op_sends_each_signal_to_one_possible_child(cls):
    layer, x, dy, _, _ = _signal_case(cls, spnk.SumOpSampleBackprop(seed=3))
    dx, dacc = _signals(layer, x, dy)
    np.testing.assert_allclose(dx.sum(-1), dy.sum(-1), atol=1e-6)       # all signal arrives
    assert (dx[np.isneginf(x)] == 0).all()                              # never a p = 0 child
    np.testing.assert_allclose(dacc.sum(-2), _to_acc_shape(dy.sum(0)[..., None, :], cls)[..., 0, :],
                               atol=1e-6)


# ---------------------------------------------------------------------------------------------
# small DGC-SPNs over 4x4 binary images
# ---------------------------------------------------------------------------------------------
ALL_STATES = np.array(list(itertools.product([0, 1], repeat=16)), "int32").reshape(-1, 4, 4, 1)


def dgcspn_valid():
    """Strided 'valid' products (non-overlapping windows) and a DenseSum head."""
    return [L.IndicatorLeaf(2), L.Local2DSum(3),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.Local2DSum(3),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=8, seed=0),
            L.SpatialToRegions(), L.DenseSum(2)]


def dgcspn_full_final():
    """Overlapping 'full' products with growing dilation and a 'final' top product."""
    return [L.IndicatorLeaf(2), L.Conv2DSum(2),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.Local2DSum(2),
            L.Conv2DProduct(strides=1, dilations=1, kernel_size=2, padding="full",
                            num_channels=5, seed=1),
            L.Conv2DSum(2),
            L.Conv2DProduct(strides=1, dilations=2, kernel_size=2, padding="final"),
            L.SpatialToRegions()]


def build_model(make_layers, sum_op=None, root_logits=False):
    with spnk.default_sum_op(sum_op or spnk.SumOpGradBackprop()):
        layers = make_layers() + [L.RootSum(return_weighted_child_logits=root_logits)]
    return spnk.SequentialSumProductNetwork([keras.Input((4, 4, 1), dtype="int32")] + layers)


def joint_table(model):
    return spnk.log_likelihood(model, ALL_STATES).astype(np.float64)          # [2**16]


@pytest.mark.parametrize("make_layers", [dgcspn_valid, dgcspn_full_final])
def test_dgcspn_is_normalised_and_marginals_match_brute_force(make_layers):
    model = build_model(make_layers)
    assert model.output_shape == (None, 1)
    table = joint_table(model)
    assert np.isfinite(table).all()                         # every image has p > 0
    np.testing.assert_allclose(np.exp(table).sum(), 1.0, rtol=1e-4)
    rng = np.random.default_rng(5)
    x = ALL_STATES[rng.choice(len(ALL_STATES), 6)]
    mask = rng.random((6, 4, 4, 1)) < 0.6                 # True = observed
    got = spnk.marginal(model, x, mask)
    flat_states, flat_x, flat_m = ALL_STATES.reshape(-1, 16), x.reshape(6, 16), mask.reshape(6, 16)
    for b in range(6):
        agree = (flat_states[:, flat_m[b]] == flat_x[b, flat_m[b]]).all(axis=1)
        np.testing.assert_allclose(got[b], scipy.special.logsumexp(table[agree]), atol=1e-4)


def test_dgcspn_weighted_child_logits_sum_to_the_likelihood():
    model = build_model(dgcspn_valid, root_logits=True)
    x = ALL_STATES[::4097]
    logits = model(x).numpy().astype(np.float64)                          # [B, 2] = log p(x, y)
    assert logits.shape == (len(x), 2)
    np.testing.assert_allclose(scipy.special.logsumexp(logits, axis=1),
                               spnk.log_likelihood(model, x), atol=1e-5)


def binary_images(n, seed):
    """Images with structure: a random 2x2-block pattern plus pixel noise."""
    rng = np.random.default_rng(seed)
    blocks = rng.random((n, 2, 2)) < np.array([[0.8, 0.3], [0.3, 0.8]])
    images = np.kron(blocks, np.ones((2, 2), bool))
    flip = rng.random(images.shape) < 0.1
    return (images ^ flip).astype("int32")[..., None]


def test_full_batch_soft_em_never_decreases_the_training_log_likelihood():
    model = build_model(dgcspn_full_final, spnk.SumOpEMBackprop())
    model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                  optimizer=spnk.OnlineExpectationMaximization(1.0))
    x = binary_images(48, seed=6)
    lls = [spnk.log_likelihood(model, x).mean()]
    for _ in range(8):
        model.fit(x, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
        lls.append(spnk.log_likelihood(model, x).mean())
    assert np.all(np.diff(lls) >= -1e-5), lls
    assert lls[-1] > lls[0] + 0.5, lls
    np.testing.assert_allclose(np.exp(joint_table(model)).sum(), 1.0, rtol=1e-4)


@pytest.mark.parametrize("op", [spnk.SumOpHardEMBackprop(seed=1),
                                spnk.SumOpUnweightedHardEMBackprop(seed=1),
                                spnk.SumOpSampleBackprop(seed=1)], ids=type)
def test_hard_em_variants_train_a_dgcspn(op):
    model = build_model(dgcspn_valid, op)
    model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                  optimizer=spnk.OnlineExpectationMaximization(0.5))
    x = binary_images(32, seed=7)
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(x, batch_size=len(x), epochs=2, verbose=0)
    after = [w.numpy() for w in model.trainable_weights]
    assert any(not np.allclose(a, b) for a, b in zip(after, before))
    assert np.isfinite(spnk.log_likelihood(model, x)).all()
    for w in after:                                        # still normalised sums
        np.testing.assert_allclose(w.sum(axis=-2), 1.0, rtol=1e-5)


def test_live_sum_op_switch_keeps_the_distribution():
    model = build_model(dgcspn_full_final)                 # gradient op: log-space accumulators
    x = binary_images(10, seed=8)
    before = spnk.log_likelihood(model, x)
    model.set_sum_op(spnk.SumOpEMBackprop())               # converts to linear accumulators
    assert all(not l.logspace_accumulators for l in model.sum_layers)
    np.testing.assert_allclose(spnk.log_likelihood(model, x), before, atol=1e-6)


def test_dgcspn_keras_round_trip(tmp_path):
    model = build_model(dgcspn_full_final, spnk.SumOpHardEMBackprop(sample_prob=0.25, seed=2))
    x = binary_images(5, seed=9)
    path = str(tmp_path / "dgcspn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(loaded.layers, model.layers):
        assert a.get_config() == b.get_config()
        if isinstance(a, L.Conv2DProduct) and not a.depthwise:
            np.testing.assert_array_equal(a.channel_indices.numpy(), b.channel_indices.numpy())


def test_libspn_keras_readme_dgcspn_ports_by_changing_the_import():
    """The DGC-SPN of the LibSPN-Keras 0.6 README, with `spnk = spnlab.core`: the same output
    shapes and sum-weight counts as the README's model summary."""
    spnk_layers = spnk.layers
    conv = [dict(strides=[2, 2], dilations=[1, 1], padding="valid"),
            dict(strides=[2, 2], dilations=[1, 1], padding="valid"),
            dict(strides=[1, 1], dilations=[1, 1], padding="full"),
            dict(strides=[1, 1], dilations=[2, 2], padding="full"),
            dict(strides=[1, 1], dilations=[4, 4], padding="full"),
            dict(strides=[1, 1], dilations=[8, 8], padding="final")]
    layers = [spnk_layers.NormalizeStandardScore(),
              spnk_layers.NormalLeaf(num_components=16, location_trainable=True)]
    for kwargs, num_sums in zip(conv, [16, 32, 32, 64, 64, None]):
        layers.append(spnk_layers.Conv2DProduct(depthwise=True, kernel_size=[2, 2], **kwargs))
        if num_sums:
            layers.append(spnk_layers.Local2DSum(num_sums=num_sums))
    layers += [spnk_layers.SpatialToRegions(), spnk_layers.DenseSum(num_sums=10),
               spnk_layers.RootSum(return_weighted_child_logits=True)]
    model = spnk.SequentialSumProductNetwork([keras.Input((28, 28, 1))] + layers)
    shapes = [tuple(l.output.shape[1:]) for l in model.layers[1:]]
    assert shapes == [(28, 28, 16), (14, 14, 16), (14, 14, 16), (7, 7, 16), (7, 7, 32),
                      (8, 8, 32), (8, 8, 32), (10, 10, 32), (10, 10, 64), (14, 14, 64),
                      (14, 14, 64), (8, 8, 64), (1, 1, 4096), (1, 1, 10), (10,)]
    sums = [l.count_params() for l in model.sum_layers]
    assert sums == [50176, 25088, 65536, 204800, 802816, 40960, 10]
    x = np.random.default_rng(10).random((4, 28, 28, 1)).astype("float32")
    logits = model(x).numpy()
    assert logits.shape == (4, 10) and np.isfinite(logits).all()


# ---------------------------------------------------------------------------------------------
# bad arguments and inputs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,error,name", [
    (dict(strides=0, dilations=1, kernel_size=2), ValueError, "strides=0"),
    (dict(strides=1, dilations=[1, 2, 3], kernel_size=2), ValueError, "dilations="),
    (dict(strides=1, dilations=1, kernel_size=(2,)), ValueError, "kernel_size="),
    (dict(strides=1, dilations=1, kernel_size=2.0), ValueError, "kernel_size=2.0"),
    (dict(strides=1, dilations=1, kernel_size=2, padding="same"), ValueError, "padding='same'"),
    (dict(strides=1, dilations=1, kernel_size=2, num_channels=0), ValueError, "num_channels=0"),
    (dict(strides=1, dilations=1, kernel_size=2, depthwise="yes"), TypeError, "depthwise='yes'"),
    (dict(strides=1, dilations=1, kernel_size=2, seed=1.5), TypeError, "seed=1.5"),
])
def test_conv2d_product_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name.replace("[", r"\[").replace("(", r"\(")):
        L.Conv2DProduct(**kwargs)


def test_spatial_layers_bad_inputs():
    with pytest.raises(ValueError, match="num_sums=0"):
        L.Local2DSum(0)
    with pytest.raises(ValueError, match="num_sums=2.5"):
        L.Conv2DSum(2.5)
    with pytest.raises(TypeError, match="sum_op="):
        L.Local2DSum(2, sum_op="em")
    with pytest.raises(ValueError, match="logspace_accumulators=True"):
        L.Conv2DSum(2, sum_op=spnk.SumOpEMBackprop(), logspace_accumulators=True)
    region = np.zeros((2, 3, 4), "float32")
    for layer in (L.Local2DSum(2), L.Conv2DSum(2), L.SpatialToRegions(),
                  L.Conv2DProduct(1, 1, 2)):
        with pytest.raises(ValueError, match=r"input_shape=\(2, 3, 4\)"):
            layer(region)
    with pytest.raises(ValueError, match="input_shape=\\(None, None, 3, 2\\)"):
        L.Local2DSum(2).build((None, None, 3, 2))
    with pytest.raises(ValueError, match="5 x 5"):           # 'final' on a too-large input
        L.Conv2DProduct(1, 2, 2, padding="final")(np.zeros((1, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="does not fit"):
        L.Conv2DProduct(1, 3, 2)(np.zeros((1, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match="num_channels"):     # 8**9 combinations
        L.Conv2DProduct(1, 1, 3)(np.zeros((1, 3, 3, 8), "float32"))
