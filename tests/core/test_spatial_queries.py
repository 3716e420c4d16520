"""Queries on spatial SPNs (DGC-SPNs whose leaf reads `[B, H, W, C]` images directly).

Small DGC-SPNs over 4x4 binary images (all 2**16 states) and over 2x2 images with two binary
channels: marginals, conditionals and variable marginals against brute-force sums of the joint
table; max-product MPE against the brute-force maximum of an independent NumPy max-product
evaluator (written from the layers' documented formulas, vectorised over the batch); posterior
means against brute-force expectations; sample frequencies against the model's marginals; and
the errors for data and masks of the wrong shape. The variables of a spatial model are its
pixels; a mask may be `[B, H, W]`, `[B, H, W, 1]` or `[B, H, W, C]` (the same for every channel
of a pixel), and every completion comes back in the data's shape.
"""
import itertools
import math
import re

import keras
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.core import layers as L
from spnlab.core.queries import runner

H = W = 4
STATES = np.array(list(itertools.product([0, 1], repeat=H * W)), "int32").reshape(-1, H, W, 1)
FLAT_STATES = STATES.reshape(len(STATES), -1)


# ---------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------
def _dirichlet(seed):
    return spnk.initializers.Dirichlet(alpha=1.0, seed=seed)


def valid_layers(seed):
    """Non-overlapping strided products and a DenseSum head (a tree-shaped DGC-SPN)."""
    return [L.IndicatorLeaf(2), L.Local2DSum(3, accumulator_initializer=_dirichlet(seed)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.Local2DSum(3, accumulator_initializer=_dirichlet(seed + 1)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=8, seed=seed),
            L.SpatialToRegions(), L.DenseSum(2, accumulator_initializer=_dirichlet(seed + 2)),
            L.RootSum(accumulator_initializer=_dirichlet(seed + 3))]


def full_final_layers(seed):
    """Overlapping 'full' products with growing dilation and a 'final' top product (nodes with
    several parents)."""
    return [L.IndicatorLeaf(2), L.Conv2DSum(2, accumulator_initializer=_dirichlet(seed)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
            L.Local2DSum(2, accumulator_initializer=_dirichlet(seed + 1)),
            L.Conv2DProduct(strides=1, dilations=1, kernel_size=2, padding="full",
                            num_channels=5, seed=seed),
            L.Conv2DSum(2, accumulator_initializer=_dirichlet(seed + 2)),
            L.Conv2DProduct(strides=1, dilations=2, kernel_size=2, padding="final"),
            L.SpatialToRegions(), L.RootSum(accumulator_initializer=_dirichlet(seed + 3))]


def build(make_layers, seed=0, sum_op=None, shape=(H, W, 1)):
    with spnk.default_sum_op(sum_op or spnk.SumOpEMBackprop()):
        layers = make_layers(seed)
    return spnk.SequentialSumProductNetwork([keras.Input(shape, dtype="int32")] + layers)


MAKERS = {"valid": valid_layers, "full_final": full_final_layers}


@pytest.fixture(scope="module", params=list(MAKERS))
def model(request):
    return build(MAKERS[request.param], seed=3)


@pytest.fixture(scope="module")
def table(model):
    """log p of all 2**16 images, float64."""
    return spnk.log_likelihood(model, STATES).astype(np.float64)


def logsumexp(a, axis=None):
    a = np.asarray(a, np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out.item() if axis is None else np.squeeze(out, axis=axis)


def consistent(x, observed):
    """Which of the 2**16 images agree with image `x [H, W, 1]` on the pixels `observed`."""
    m = observed.reshape(-1)
    return np.all(FLAT_STATES[:, m] == x.reshape(-1)[m], axis=1)


# ---------------------------------------------------------------------------------------------
# an independent NumPy evaluator (sum or max-product), from the documented formulas
# ---------------------------------------------------------------------------------------------
def _log_weights(layer):
    acc = layer.accumulators.numpy().astype(np.float64)
    w = np.exp(acc - acc.max(axis=-2, keepdims=True)) if layer.logspace_accumulators else acc
    with np.errstate(divide="ignore"):
        return np.log(w / w.sum(axis=-2, keepdims=True))


def _mix(h, log_w, mode):
    """out[..., o] = combine_c h[..., c] + log_w[..., c, o]."""
    scores = h[..., :, None] + log_w
    return scores.max(axis=-2) if mode == "max" else logsumexp(scores, axis=-2)


def _pads(layer, rows, cols):
    (kh, kw), (dh, dw) = layer.kernel_size, layer.dilations
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if layer.padding == "valid":
        return 0, 0, 0, 0
    if layer.padding == "full":
        return eh - 1, eh - 1, ew - 1, ew - 1
    return (2 * (eh - 1) - rows if kh > 1 else 0), 0, (2 * (ew - 1) - cols if kw > 1 else 0), 0


def _conv_product(h, layer):
    """y[b,r,c,o] = sum_ij hp[b, r*sh + i*dh, c*sw + j*dw, k[i,j,o]], hp padded with log 1."""
    B, rows, cols, C = h.shape
    top, bottom, left, right = _pads(layer, rows, cols)
    hp = np.zeros((B, rows + top + bottom, cols + left + right, C))
    hp[:, top:top + rows, left:left + cols] = h
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.strides, layer.dilations
    out_r = math.ceil((hp.shape[1] - (kh - 1) * dh) / sh)
    out_c = math.ceil((hp.shape[2] - (kw - 1) * dw) / sw)
    idx = None if layer.depthwise else layer.channel_indices.numpy()
    y = 0.0
    for i, j in itertools.product(range(kh), range(kw)):
        r0, c0 = i * dh, j * dw
        cell = hp[:, r0:r0 + (out_r - 1) * sh + 1:sh, c0:c0 + (out_c - 1) * sw + 1:sw]
        y = y + (cell if idx is None else cell[..., idx[i, j]])
    return y


def np_evaluate(model, x, observed=None, mode="sum"):
    """log-values `[B]` for images `x [B, H, W, C]`; `observed [B, H, W]` False marginalises
    (sum) or maximises (max) a pixel. Knows IndicatorLeaf, CategoricalLeaf and the spatial and
    dense layers used in this file."""
    x = np.asarray(x)
    h = None
    for layer in model.layers:
        if isinstance(layer, L.IndicatorLeaf):
            k = np.arange(layer.num_components)
            hit = np.all(x[..., None, :] == k[:, None], axis=-1)          # [B, H, W, K]
            h = np.where(hit, 0.0, -np.inf)
            fill = 0.0
        elif isinstance(layer, L.CategoricalLeaf):
            p = layer.category_params.numpy().astype(np.float64)[0]      # [H, W, K, C, N]
            logp = np.log(p / p.sum(-1, keepdims=True))
            one_hot = np.eye(layer.num_categories)[x]                   # [B, H, W, C, N]
            h = np.einsum("bhwcn,hwkcn->bhwk", one_hot, logp)
            fill = logp.max(-1).sum(-1) if mode == "max" else 0.0       # [H, W, K]
        elif isinstance(layer, (L.Local2DSum, L.Conv2DSum, L.DenseSum, L.RootSum)):
            h = _mix(h, _log_weights(layer), mode)
        elif isinstance(layer, L.Conv2DProduct):
            h = _conv_product(h, layer)
        elif isinstance(layer, L.SpatialToRegions):
            h = h.reshape(len(h), 1, 1, -1)
        else:
            raise TypeError(f"np_evaluate does not know {type(layer).__name__}")
        if isinstance(layer, L.BaseLeaf) and observed is not None:
            h = np.where(observed[..., None], h, fill)
    return h.reshape(len(x))


def test_numpy_evaluator_agrees_with_the_model(model, table):
    rows = np.random.default_rng(0).choice(len(STATES), 64, replace=False)
    np.testing.assert_allclose(np_evaluate(model, STATES[rows]), table[rows], atol=1e-5)
    assert abs(logsumexp(table)) < 1e-4                                 # normalised


# ---------------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------------
def test_spatial_layout_is_recognised(model):
    assert runner.is_spatial(model)
    assert runner.num_variables(model) == H * W
    assert runner.data_shape(model) == (H, W, 1)
    region = spnk.ratspn(num_vars=6, depth=1, num_repetitions=2, num_input_distributions=2,
                         num_sums=2, seed=0)
    assert not runner.is_spatial(region)
    assert runner.num_variables(region) == 6 and runner.data_shape(region) == (6,)


# ---------------------------------------------------------------------------------------------
# marginals, conditionals, variable marginals
# ---------------------------------------------------------------------------------------------
def _evidence(seed, batch=5, p=0.5):
    rng = np.random.default_rng(seed)
    x = STATES[rng.choice(len(STATES), batch)]
    observed = rng.random((batch, H, W)) < p
    return x, observed


def test_marginals_with_pixel_masks_equal_brute_force(model, table):
    x, observed = _evidence(1)
    expected = [logsumexp(table[consistent(x[b], observed[b])]) for b in range(len(x))]
    for mask in (observed, observed[..., None]):
        np.testing.assert_allclose(spnk.marginal(model, x, mask), expected, atol=1e-5)
    np.testing.assert_allclose(np_evaluate(model, x, observed), expected, atol=1e-5)
    # the values of unobserved pixels do not matter, NaN included
    noisy = x.astype("float32")
    noisy[~observed] = np.nan
    np.testing.assert_allclose(spnk.marginal(model, noisy, observed), expected, atol=1e-5)


def test_a_row_mask_is_not_mistaken_for_a_region_mask(model, table):
    """A mask observing only some columns of a row: the old region reading ANDed over W."""
    x = STATES[[777]]
    observed = np.zeros((1, H, W), bool)
    observed[0, :, 0] = True                                   # the first column only
    expected = logsumexp(table[consistent(x[0], observed[0])])
    assert abs(spnk.marginal(model, x, observed)[0] - expected) < 1e-5
    assert abs(expected - table[777]) > 1e-3                   # really a marginal


def test_conditionals_equal_ratios_of_brute_force_sums(model, table):
    x, evidence = _evidence(2, batch=3, p=0.4)
    query = ~evidence & (np.random.default_rng(3).random(evidence.shape) < 0.5)
    expected = [logsumexp(table[consistent(x[b], evidence[b] | query[b])])
                - logsumexp(table[consistent(x[b], evidence[b])]) for b in range(3)]
    got = spnk.conditional(model, x, query, evidence[..., None])           # mixed mask forms
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_variable_marginals_equal_brute_force(model, table):
    x, observed = _evidence(4, batch=3, p=0.4)
    p = np.exp(table)
    got = spnk.variable_marginals(model, x, observed)
    assert got.shape == (3, H, W, 1, 2)                       # the data's shape, then the values
    np.testing.assert_array_equal(got, spnk.variable_marginals(model, x, observed[..., None]))
    for b in range(3):
        agree = consistent(x[b], observed[b])
        p1 = (p[agree, None] * FLAT_STATES[agree]).sum(0) / p[agree].sum()   # P(pixel = 1 | e)
        np.testing.assert_allclose(got[b, ..., 0, 1].reshape(-1), p1, atol=1e-5)
        np.testing.assert_allclose(got[b].sum(-1), 1.0, atol=1e-5)
        # observed pixels are certain
        np.testing.assert_allclose(got[b, observed[b], 0, 1], x[b, observed[b], 0], atol=1e-6)


def test_posterior_leaf_marginals_sum_to_one_per_pixel(model):
    x, observed = _evidence(5, batch=2)
    g = spnk.posterior_leaf_marginals(model, x, observed)
    assert g.shape == (2, H, W, 2)
    np.testing.assert_allclose(g.sum(-1), 1.0, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# MPE and posterior means
# ---------------------------------------------------------------------------------------------
def test_max_product_mpe_is_the_best_induced_tree_completion(model):
    max_table = np_evaluate(model, STATES, mode="max")                       # brute force
    x, observed = _evidence(6, batch=4, p=0.4)
    for mask in (observed, observed[..., None]):
        completed = spnk.mpe(model, x, mask, seed=0)
        assert completed.shape == x.shape and completed.dtype == x.dtype
        np.testing.assert_array_equal(completed[observed], x[observed])      # evidence kept
        for b in range(len(x)):
            best = max_table[consistent(x[b], observed[b])].max()
            assert abs(np_evaluate(model, completed[b:b + 1], mode="max")[0] - best) < 1e-9
            # the upward max pass with the unobserved pixels maximised reaches the same value
            up = np_evaluate(model, x[b:b + 1], observed[b:b + 1], mode="max")[0]
            assert abs(up - best) < 1e-9


def test_hard_em_completion_keeps_evidence_and_is_a_possible_image(model):
    x, observed = _evidence(7, batch=4)
    completed = spnk.mpe(model, x, observed, method="hard_em", seed=0)
    assert completed.shape == x.shape
    np.testing.assert_array_equal(completed[observed], x[observed])
    assert set(np.unique(completed)) <= {0, 1}
    assert np.isfinite(spnk.log_likelihood(model, completed)).all()


def test_posterior_mean_and_model_completion_equal_brute_force_expectations(model, table):
    p = np.exp(table)
    x, observed = _evidence(8, batch=3, p=0.4)
    x = x.astype("float32")
    expected = np.stack([
        (p[a, None] * FLAT_STATES[a]).sum(0) / p[a].sum()
        for a in (consistent(x[b], observed[b]) for b in range(3))]).reshape(x.shape)
    expected[observed] = x[observed]
    for got in (spnk.posterior_mean(model, x, observed),
                model.complete(x, observed[..., None])):             # EM op: posterior mean
        assert got.shape == x.shape
        np.testing.assert_allclose(got, expected, atol=1e-5)
        np.testing.assert_array_equal(got[observed], x[observed])


# ---------------------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------------------
N_DRAWS = 4000
TOL = 4 * np.sqrt(0.25 / N_DRAWS)                   # 4 standard errors of a frequency


def test_samples_without_evidence_match_the_pixel_marginals(model, table):
    draws = spnk.sample(model, N_DRAWS, seed=11)
    assert draws.shape == (N_DRAWS, H, W, 1) and draws.dtype == np.int32
    p = np.exp(table)
    p1 = (p[:, None] * FLAT_STATES).sum(0).reshape(H, W, 1)                # P(pixel = 1)
    np.testing.assert_allclose(draws.mean(0), p1, atol=TOL)
    # and a pair of neighbours jointly (the samples are not pixel-wise independent draws)
    both = (p * (FLAT_STATES[:, 0] == 1) * (FLAT_STATES[:, 1] == 1)).sum()
    assert abs(np.mean((draws[:, 0, 0, 0] == 1) & (draws[:, 0, 1, 0] == 1)) - both) < TOL
    np.testing.assert_array_equal(spnk.sample(model, 20, seed=5), spnk.sample(model, 20, seed=5))


def test_samples_with_evidence_keep_it_and_match_the_conditionals(model, table):
    x, observed = _evidence(9, batch=1, p=0.4)
    xs, ms = np.repeat(x, N_DRAWS, axis=0), np.repeat(observed, N_DRAWS, axis=0)
    draws = spnk.sample(model, x=xs, evidence_mask=ms[..., None], seed=12)
    assert draws.shape == xs.shape
    np.testing.assert_array_equal(draws[ms], xs[ms])
    p = np.exp(table)
    agree = consistent(x[0], observed[0])
    p1 = ((p[agree, None] * FLAT_STATES[agree]).sum(0) / p[agree].sum()).reshape(H, W, 1)
    np.testing.assert_allclose(draws.mean(0), p1, atol=TOL)


def test_zero_evidence_inference_with_the_sample_op_draws_from_the_model():
    model = build(valid_layers, seed=4, sum_op=spnk.SumOpSampleBackprop(seed=2))
    p = np.exp(spnk.log_likelihood(model, STATES).astype(np.float64))
    draws = model.zero_evidence_inference(N_DRAWS)
    assert draws.shape == (N_DRAWS, H, W, 1)
    p1 = (p[:, None] * FLAT_STATES).sum(0).reshape(H, W, 1)
    np.testing.assert_allclose(draws.mean(0), p1, atol=TOL)


# ---------------------------------------------------------------------------------------------
# images with two channels (a categorical leaf over each pixel's two binary values)
# ---------------------------------------------------------------------------------------------
STATES_2C = np.array(list(itertools.product([0, 1], repeat=8)), "int32").reshape(-1, 2, 2, 2)


def two_channel_layers(seed):
    leaf = L.CategoricalLeaf(2, num_categories=2, use_accumulators=True,
                             accumulator_initializer=spnk.initializers.Dirichlet(
                                 axis=-1, alpha=1.0, seed=seed))
    return [leaf, L.Local2DSum(2, accumulator_initializer=_dirichlet(seed + 1)),
            L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=6, seed=seed),
            L.SpatialToRegions(), L.RootSum(accumulator_initializer=_dirichlet(seed + 2))]


@pytest.fixture(scope="module")
def two_channel_model():
    return build(two_channel_layers, seed=7, shape=(2, 2, 2))


def test_two_channel_pixels_are_the_variables(two_channel_model):
    model = two_channel_model
    assert runner.num_variables(model) == 4 and runner.data_shape(model) == (2, 2, 2)
    table = spnk.log_likelihood(model, STATES_2C).astype(np.float64)
    assert abs(logsumexp(table)) < 1e-5
    np.testing.assert_allclose(np_evaluate(model, STATES_2C), table, atol=1e-5)
    x = STATES_2C[[37, 200]]
    observed = np.array([[[True, False], [False, True]], [[False, False], [True, False]]])
    flat, xf = STATES_2C.reshape(-1, 4, 2), x.reshape(2, 4, 2)
    om = observed.reshape(2, 4)
    for mask in (observed, observed[..., None], np.repeat(observed[..., None], 2, axis=-1)):
        got = spnk.marginal(model, x, mask)
        for b in range(2):
            agree = np.all(flat[:, om[b]] == xf[b, om[b]], axis=(1, 2))
            assert abs(got[b] - logsumexp(table[agree])) < 1e-5
    # variable marginals per channel: the data's shape and the values
    vm = spnk.variable_marginals(model, x, observed)
    assert vm.shape == (2, 2, 2, 2, 2)
    p = np.exp(table)
    for b in range(2):
        agree = np.all(flat[:, om[b]] == xf[b, om[b]], axis=(1, 2))
        p1 = (p[agree, None, None, None] * STATES_2C[agree]).sum(0) / p[agree].sum()
        np.testing.assert_allclose(vm[b, ..., 1], p1, atol=1e-5)
    # completions and samples have the data's shape and keep observed pixels (both channels)
    for out in (spnk.mpe(model, x, observed, seed=0),
                spnk.mpe(model, x, observed, method="hard_em", seed=0),
                spnk.sample(model, x=x, evidence_mask=observed, seed=0)):
        assert out.shape == x.shape
        np.testing.assert_array_equal(out[observed], x[observed])
    assert spnk.sample(model, 3, seed=0).shape == (3, 2, 2, 2)


def test_a_pixel_observed_in_only_some_channels_is_an_error(two_channel_model):
    x = STATES_2C[[1, 2]]
    mask = np.ones(x.shape, bool)
    mask[1, 0, 1, 0] = False
    with pytest.raises(ValueError, match=re.escape(
            "Expected `evidence_mask` to observe all or none of the 2 channels of a pixel")) \
            as info:
        spnk.marginal(two_channel_model, x, mask)
    assert "evidence_mask[1, 0, 1, :]=[False, True]" in str(info.value)


# ---------------------------------------------------------------------------------------------
# continuous leaves with a normalisation in front
# ---------------------------------------------------------------------------------------------
def test_normal_leaf_dgcspn_completions_have_the_data_shape():
    with spnk.default_sum_op(spnk.SumOpEMBackprop()):
        layers = [L.NormalizeStandardScore(), L.NormalLeaf(2),
                  L.Local2DSum(2, accumulator_initializer=_dirichlet(0)),
                  L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, depthwise=True),
                  L.Local2DSum(2, accumulator_initializer=_dirichlet(1)),
                  L.Conv2DProduct(strides=2, dilations=1, kernel_size=2, num_channels=4, seed=0),
                  L.SpatialToRegions(), L.RootSum(accumulator_initializer=_dirichlet(2))]
    model = spnk.SequentialSumProductNetwork([keras.Input((H, W, 1))] + layers)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, H, W, 1)).astype("float32")
    observed = rng.random((3, H, W)) < 0.5
    x[~observed] = np.nan
    for out in (spnk.mpe(model, x, observed, seed=0), spnk.posterior_mean(model, x, observed),
                spnk.sample(model, x=x, evidence_mask=observed, seed=0),
                model.complete(x, observed)):
        assert out.shape == x.shape and np.isfinite(out).all()
        np.testing.assert_array_equal(out[observed], x[observed])
    assert spnk.sample(model, 5, seed=1).shape == (5, H, W, 1)
    assert model.zero_evidence_inference(2).shape == (2, H, W, 1)


# ---------------------------------------------------------------------------------------------
# bad data and masks
# ---------------------------------------------------------------------------------------------
MASK_QUERIES = {
    "marginal": lambda m, x, mask: spnk.marginal(m, x, mask),
    "mpe": lambda m, x, mask: spnk.mpe(m, x, mask),
    "mpe_hard_em": lambda m, x, mask: spnk.mpe(m, x, mask, method="hard_em"),
    "posterior_mean": lambda m, x, mask: spnk.posterior_mean(m, x, mask),
    "sample": lambda m, x, mask: spnk.sample(m, x=x, evidence_mask=mask),
    "variable_marginals": lambda m, x, mask: spnk.variable_marginals(m, x, mask),
    "posterior_leaf_marginals": lambda m, x, mask: spnk.posterior_leaf_marginals(m, x, mask),
    "conditional": lambda m, x, mask: spnk.conditional(m, x, np.zeros(x.shape[:3], bool), mask),
    "complete": lambda m, x, mask: m.complete(x, mask),
}


@pytest.fixture(scope="module")
def small_model():
    return build(valid_layers, seed=1)


@pytest.mark.parametrize("query", list(MASK_QUERIES))
@pytest.mark.parametrize("shape", [(3, 4), (3, 16), (3, 4, 3), (2, 4, 4), (3, 4, 4, 2),
                                   (3, 4, 4, 1, 1), (4, 4, 1)])
def test_evidence_mask_of_the_wrong_shape(small_model, query, shape):
    x = STATES[:3]
    with pytest.raises(ValueError, match=re.escape(
            "Expected `evidence_mask` of shape (3, 4, 4) or (3, 4, 4, 1) (per pixel). "
            f"Received: evidence_mask.shape={shape}")):
        MASK_QUERIES[query](small_model, x, np.ones(shape, bool))


def test_query_mask_of_the_wrong_shape_is_named(small_model):
    x = STATES[:3]
    with pytest.raises(ValueError, match=re.escape(
            "Expected `query_mask` of shape (3, 4, 4) or (3, 4, 4, 1) (per pixel). "
            "Received: query_mask.shape=(3, 16)")):
        spnk.conditional(small_model, x, np.ones((3, 16), bool), np.ones((3, 4, 4), bool))
    with pytest.raises(TypeError, match=re.escape(
            "Expected `query_mask` of dtype bool. Received dtype int64")):
        spnk.conditional(small_model, x, np.ones((3, 4, 4), "int64"), np.ones((3, 4, 4), bool))


@pytest.mark.parametrize("query", list(MASK_QUERIES))
def test_evidence_mask_not_bool(small_model, query):
    with pytest.raises(TypeError, match=re.escape(
            "Expected `evidence_mask` of dtype bool. Received dtype float32")):
        MASK_QUERIES[query](small_model, STATES[:3], np.ones((3, 4, 4), "float32"))


@pytest.mark.parametrize("shape", [(3, 16), (3, 4, 4), (3, 4, 4, 2), (3, 3, 4, 1), (16,),
                                   (3, 4, 4, 1, 1)])
def test_data_of_the_wrong_shape(small_model, shape):
    x = np.zeros(shape, "int32")
    message = re.escape("Expected `x` of shape [batch, 4, 4, 1] (images [batch, rows, cols, "
                        f"channels]). Received: x.shape={shape}")
    for query in (lambda: spnk.log_likelihood(small_model, x), lambda: spnk.mpe(small_model, x),
                  lambda: spnk.sample(small_model, x=x, evidence_mask=np.ones(shape, bool))):
        with pytest.raises(ValueError, match=message):
            query()


def test_bad_values_in_observed_pixels(small_model):
    x = STATES[:2].astype("float32")
    x[1, 2, 3, 0] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            "Expected finite `x` values where observed. Received NaN or inf at index "
            "(1, 2, 3, 0)")):
        spnk.log_likelihood(small_model, x)
    x[1, 2, 3, 0] = 0.5
    with pytest.raises(ValueError, match=re.escape(
            "Expected integer values in `x` (IndicatorLeaf data). Received: x[1, 2, 3, 0]=0.5")):
        spnk.marginal(small_model, x, np.ones((2, 4, 4), bool))
    with pytest.raises(ValueError, match=re.escape("Expected `x` values in [0, 2). Received: 2")):
        spnk.log_likelihood(small_model, np.full((1, 4, 4, 1), 2, "int32"))
