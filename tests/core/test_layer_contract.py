"""The Keras layer contract of every spnlab.core layer, sum op, optimiser, constraint, initializer.

One helper, `check_layer_contract`, is applied to every layer class exported by
`spnlab.core.layers` (in the spirit of Keras' own layer test helper):

* eager call and `tf.function` call (unknown batch size) give the same output;
* `compute_output_shape` agrees with the real output shape (known and unknown batch);
* `from_config(get_config())` + `set_weights` gives an identical output, and the config is stable;
* a `.keras` save / `load_model` round trip of a small `SequentialSumProductNetwork` holding the
  layer gives identical outputs and the same config (sum layers: the same sum op).

Each case also checks the output against an independent NumPy / SciPy computation from the
layer's raw parameters (never from the code under test).
"""
import numpy as np
import pytest
import scipy.special
import scipy.stats
import keras
import tensorflow as tf

import spnlab.core as spnk
from spnlab.core import constraints as C
from spnlab.core import initializers as I
from spnlab.core import layers as L

NEG_INF = -np.inf


# ---------------------------------------------------------------------------------------------
# the shared helper
# ---------------------------------------------------------------------------------------------
def assert_close(actual, expected, rtol=1e-5, atol=1e-5):
    """allclose that also demands -inf exactly where expected has -inf (and no NaN anywhere)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert not np.isnan(actual).any(), "NaN in output"
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_identical(actual, expected):
    np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected))


def _decoy_sum_op(op):
    """A default sum op that differs from `op`, so a reload cannot pass by using the default."""
    if isinstance(op, spnk.SumOpGradBackprop):
        return spnk.SumOpUnweightedHardEMBackprop(sample_prob=0.9)
    return spnk.SumOpGradBackprop()


def check_layer_contract(layer, x, tmp_path, *, input_dtype="float32", call_kwargs=None,
                         save=True):
    """Run the layer contract on `layer` (unbuilt or prepared) with the concrete input `x`.

    Returns the eager output as a NumPy array.
    """
    call_kwargs = call_kwargs or {}
    x = np.asarray(x)

    # 1. eager vs tf.function (with an unknown batch dimension)
    y = np.asarray(layer(x, **call_kwargs))
    spec = tf.TensorSpec([None] + list(x.shape[1:]), tf.as_dtype(x.dtype))
    graph_fn = tf.function(lambda t: layer(t, **call_kwargs), input_signature=[spec])
    y_graph = np.asarray(graph_fn(tf.constant(x)))
    assert_close(y_graph, y)              # equal up to float32 rounding (graph fuses ops)

    # 2. compute_output_shape
    assert tuple(layer.compute_output_shape(x.shape)) == y.shape
    assert tuple(layer.compute_output_shape((None,) + x.shape[1:])) == (None,) + y.shape[1:]

    # 3. config round trip with the same weights
    config = layer.get_config()
    clone = type(layer).from_config(config)
    clone(x, **call_kwargs)
    clone.set_weights(layer.get_weights())
    assert_identical(clone(x, **call_kwargs), y)
    assert clone.get_config() == config
    if hasattr(layer, "sum_op"):
        assert type(clone.sum_op) is type(layer.sum_op)
        assert clone.sum_op.get_config() == layer.sum_op.get_config()
    registered = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(registered) is type(layer)

    # 4. .keras save / load of a small model holding the layer
    if save:
        model = spnk.SequentialSumProductNetwork(
            [keras.Input(shape=x.shape[1:], dtype=input_dtype), layer])
        y_model = np.asarray(model(x))
        assert_identical(y_model, y)
        path = str(tmp_path / f"{layer.name}.keras")
        model.save(path)
        decoy = _decoy_sum_op(getattr(layer, "sum_op", spnk.SumOpGradBackprop()))
        with spnk.default_sum_op(decoy):
            loaded = keras.saving.load_model(path)          # safe_mode=True (the default)
        assert isinstance(loaded, spnk.SequentialSumProductNetwork)
        loaded_layer = loaded.layers[-1]
        assert type(loaded_layer) is type(layer)
        assert loaded_layer.get_config() == config
        assert_identical(loaded(x), y)
        if hasattr(layer, "sum_op"):
            assert type(loaded_layer.sum_op) is type(layer.sum_op)
            assert loaded_layer.sum_op.get_config() == layer.sum_op.get_config()
            assert loaded_layer.logspace_accumulators == layer.logspace_accumulators
    return y


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
def region_input(shape, seed=0, with_neg_inf=True):
    """Float log-values `[B, S, D, N]` with a few -inf entries (probability 0 is legal)."""
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    if with_neg_inf:
        x[0, 0, 0, 0] = NEG_INF
        x[-1, -1, -1, -1] = NEG_INF
    return x


def np_softplus(z):
    return np.logaddexp(0.0, z)


# ---------------------------------------------------------------------------------------------
# leaves
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_vals,var_dims", [(3, 1), (2, 2)])
def test_indicator_leaf(tmp_path, num_vals, var_dims):
    x = np.random.default_rng(1).integers(0, num_vals, size=(4, 3, 2, var_dims)).astype("int32")
    layer = L.IndicatorLeaf(num_vals)
    y = check_layer_contract(layer, x, tmp_path, input_dtype="int32")
    expected = np.zeros((4, 3, 2, num_vals))
    for k in range(num_vals):
        expected[..., k] = np.where((x == k).all(axis=-1), 0.0, NEG_INF)
    assert_identical(y, expected.astype("float32"))


def _categorical_expected(params, x, accumulators):
    """params `[1, S, D, K, V, C]`, x `[B, S, D, V]` ints -> `[B, S, D, K]`."""
    params = params.astype(np.float64)
    if accumulators:
        log_p = np.log(params / params.sum(-1, keepdims=True))
    else:
        log_p = np.log(np.exp(params) / np.exp(params).sum(-1, keepdims=True))
    B, S, D, V = x.shape
    K = params.shape[3]
    out = np.zeros((B, S, D, K))
    for b, s, d, k, v in np.ndindex(B, S, D, K, V):
        out[b, s, d, k] += log_p[0, s, d, k, v, x[b, s, d, v]]
    return out


@pytest.mark.parametrize("use_accumulators", [False, True])
@pytest.mark.parametrize("cls", ["CategoricalLeaf", "BernoulliLeaf"])
def test_categorical_and_bernoulli_leaf(tmp_path, cls, use_accumulators):
    num_categories = 3 if cls == "CategoricalLeaf" else 2
    kwargs = {"num_categories": num_categories} if cls == "CategoricalLeaf" else {}
    layer = getattr(L, cls)(2, use_accumulators=use_accumulators, **kwargs)
    x = np.random.default_rng(2).integers(0, num_categories, size=(5, 3, 2, 2)).astype("int32")
    y = check_layer_contract(layer, x, tmp_path, input_dtype="int32")
    params = layer.category_params.numpy()
    assert params.shape == (1, 3, 2, 2, 2, num_categories)
    if use_accumulators:
        assert (params > 0).all()
    assert_close(y, _categorical_expected(params, x, use_accumulators))


SCIPY_FAMILY = {"NormalLeaf": scipy.stats.norm, "CauchyLeaf": scipy.stats.cauchy,
                "LaplaceLeaf": scipy.stats.laplace}


def _np_location_scale(layer):
    """Location and scale `[1, S, D, K, V]` from the leaf's raw variables, in NumPy."""
    if not layer.use_accumulators:
        loc = layer.location.numpy().astype(np.float64)
        raw = layer.scale.numpy().astype(np.float64)
        return loc, (np_softplus(raw) if layer.scale_trainable else raw)
    count = layer.first_order_moment_denom_accum.numpy().astype(np.float64)
    loc = layer.first_order_moment_num_accum.numpy() / count
    if not layer.scale_trainable:
        return loc, layer.scale.numpy().astype(np.float64)
    second = (layer.second_order_moment_num_accum.numpy()
              / layer.second_order_moment_denom_accum.numpy().astype(np.float64))
    return loc, np.sqrt(np.maximum(second - loc ** 2, layer.min_scale ** 2))


LOCATION_SCALE_VARIANTS = {
    "plain": {},
    "scale_trainable": {"scale_trainable": True},
    "accumulators": {"use_accumulators": True},
    "accumulators_scale_trainable": {"use_accumulators": True, "scale_trainable": True},
}


@pytest.mark.parametrize("variant", list(LOCATION_SCALE_VARIANTS))
@pytest.mark.parametrize("cls", list(SCIPY_FAMILY))
def test_location_scale_leaf(tmp_path, cls, variant):
    layer = getattr(L, cls)(
        3, location_initializer=keras.initializers.TruncatedNormal(stddev=1.0, seed=2),
        scale_initializer=keras.initializers.RandomUniform(0.5, 2.0, seed=3),
        accumulator_initializer=keras.initializers.RandomUniform(0.5, 2.0, seed=4),
        **LOCATION_SCALE_VARIANTS[variant])
    x = np.random.default_rng(3).normal(scale=2.0, size=(4, 3, 2, 2)).astype("float32")
    y = check_layer_contract(layer, x, tmp_path)
    loc, scale = _np_location_scale(layer)
    assert loc.shape == scale.shape == (1, 3, 2, 3, 2)
    assert (scale > 0).all()
    # The scales really are the non-trivial initial ones (not all 1).
    assert np.ptp(scale) > 0.05
    expected = SCIPY_FAMILY[cls].logpdf(x[:, :, :, None, :].astype(np.float64), loc, scale)
    assert_close(y, expected.sum(-1), rtol=1e-5, atol=1e-5)
    # The public accessor agrees with the NumPy reading of the raw variables.
    loc_tf, scale_tf = layer.location_and_scale()
    assert_close(loc_tf, loc)
    assert_close(scale_tf, scale)


@pytest.mark.parametrize("cls", list(SCIPY_FAMILY))
def test_location_scale_leaf_evidence_mask(cls):
    layer = getattr(L, cls)(2, location_initializer=keras.initializers.RandomNormal(seed=5),
                            scale_initializer=keras.initializers.RandomUniform(0.5, 2.0, seed=6))
    x = np.random.default_rng(4).normal(size=(3, 2, 1, 1)).astype("float32")
    mask = np.array([True, False, True])[:, None, None, None] & np.ones((3, 2, 1, 1), bool)
    full = np.asarray(layer(x))
    summed = np.asarray(layer(x, evidence_mask=mask))
    maxed = np.asarray(layer(x, evidence_mask=mask, marginalize="max"))
    graph = tf.function(lambda t, m: layer(t, evidence_mask=m, marginalize="max"))
    assert_close(graph(x, mask), maxed)
    loc, scale = _np_location_scale(layer)
    mode_density = SCIPY_FAMILY[cls].logpdf(loc, loc, scale)[..., 0]        # [1, S, D, K]
    assert_close(summed[[0, 2]], full[[0, 2]])
    assert_identical(summed[1], np.zeros_like(summed[1]))                  # log 1
    assert_close(maxed[[0, 2]], full[[0, 2]])
    assert_close(maxed[1], mode_density[0])


def test_indicator_leaf_evidence_mask():
    layer = L.IndicatorLeaf(2)
    x = np.array([[[[1]], [[0]]], [[[0]], [[0]]]], dtype="int32")         # [2, 2, 1, 1]
    mask = np.array([[True, False], [False, True]])[:, :, None, None]
    y = np.asarray(layer(x, evidence_mask=mask))
    expected = np.array([[[[NEG_INF, 0.0]], [[0.0, 0.0]]],
                         [[[0.0, 0.0]], [[0.0, NEG_INF]]]])
    assert_identical(y, expected.astype("float32"))


# ---------------------------------------------------------------------------------------------
# region layers
# ---------------------------------------------------------------------------------------------
def test_flat_to_regions_2d(tmp_path):
    x = np.random.default_rng(5).normal(size=(2, 4)).astype("float32")
    y = check_layer_contract(L.FlatToRegions(3), x, tmp_path)
    expected = np.empty((2, 4, 3, 1), np.float32)
    for d in range(3):
        expected[:, :, d, 0] = x
    assert_identical(y, expected)


def test_flat_to_regions_3d_int(tmp_path):
    x = np.random.default_rng(6).integers(0, 5, size=(2, 4, 2)).astype("int32")
    y = check_layer_contract(L.FlatToRegions(2, dtype="int32"), x, tmp_path, input_dtype="int32")
    assert y.dtype == np.int32
    assert_identical(y, np.stack([x, x], axis=2))


def _np_permute(x, perms):
    B, S, D, N = x.shape
    out = np.zeros((B, perms.shape[1], D, N), x.dtype)
    for d in range(D):
        for j, s in enumerate(perms[d]):
            if s >= 0:
                out[:, j, d, :] = x[:, s, d, :]
    return out


def test_permute_and_pad_scopes(tmp_path):
    perms = np.array([[2, -1, 0, 1], [-1, 1, 2, 0]])
    x = region_input((3, 3, 2, 2), seed=7)
    y = check_layer_contract(L.PermuteAndPadScopes(perms), x, tmp_path)
    assert_identical(y, _np_permute(x, perms))


def test_permute_and_pad_scopes_single_row_for_all_decomps(tmp_path):
    perms = np.array([[1, 0, -1, 2]])
    x = region_input((2, 3, 3, 2), seed=8)
    y = check_layer_contract(L.PermuteAndPadScopes(perms), x, tmp_path)
    assert_identical(y, _np_permute(x, np.repeat(perms, 3, axis=0)))


def test_permute_and_pad_scopes_random(tmp_path):
    # No seed: the reloaded / cloned layer only matches because its permutations are weights.
    layer = L.PermuteAndPadScopesRandom(factors=[2, 2])
    x = region_input((2, 3, 3, 2), seed=9)
    y = check_layer_contract(layer, x, tmp_path)
    perms = layer.permutations.numpy()
    assert perms.shape == (3, 4)
    for row in perms:
        # prod(factors) = 4 slots for 3 scopes: one pad, at i * (4 // 1) = 0, then a permutation.
        assert row[0] == -1
        assert sorted(row[1:].tolist()) == [0, 1, 2]
    assert_identical(y, _np_permute(x, perms))


def test_permute_and_pad_scopes_random_seeded_is_reproducible():
    x = region_input((1, 5, 4, 1), seed=10, with_neg_inf=False)
    a, b = (L.PermuteAndPadScopesRandom(factors=[2, 4], seed=42) for _ in range(2))
    a(x), b(x)
    assert_identical(a.permutations.numpy(), b.permutations.numpy())


# ---------------------------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------------------------
def test_dense_product_two_factors(tmp_path):
    x = region_input((3, 4, 2, 3), seed=11)
    y = check_layer_contract(L.DenseProduct(2), x, tmp_path)
    N = 3
    expected = np.empty((3, 2, 2, N * N), np.float32)
    for j in range(2):
        for n0 in range(N):
            for n1 in range(N):
                expected[:, j, :, n0 * N + n1] = x[:, 2 * j, :, n0] + x[:, 2 * j + 1, :, n1]
    assert_identical(y, expected)


def test_dense_product_three_factors(tmp_path):
    x = region_input((2, 3, 1, 2), seed=12)
    y = check_layer_contract(L.DenseProduct(3), x, tmp_path)
    N = 2
    expected = np.empty((2, 1, 1, N ** 3), np.float32)
    for n0, n1, n2 in np.ndindex(N, N, N):
        expected[:, 0, :, (n0 * N + n1) * N + n2] = \
            x[:, 0, :, n0] + x[:, 1, :, n1] + x[:, 2, :, n2]
    assert_close(y, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("num_factors", [2, 3])
def test_reduce_product(tmp_path, num_factors):
    x = region_input((2, 6, 2, 3), seed=13)
    y = check_layer_contract(L.ReduceProduct(num_factors), x, tmp_path)
    expected = np.zeros((2, 6 // num_factors, 2, 3), np.float64)
    for j in range(6 // num_factors):
        for f in range(num_factors):
            expected[:, j] += x[:, j * num_factors + f]
    assert_close(y, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("num_decomps", [1, 2])
def test_undecompose(tmp_path, num_decomps):
    x = region_input((2, 3, 4, 2), seed=14)
    y = check_layer_contract(L.Undecompose(num_decomps), x, tmp_path)
    per_group = 4 // num_decomps
    expected = np.empty((2, 3, num_decomps, per_group * 2), np.float32)
    for g, dl, n in np.ndindex(num_decomps, per_group, 2):
        expected[:, :, g, dl * 2 + n] = x[:, :, g * per_group + dl, n]
    assert_identical(y, expected)
    assert_identical(y, x.reshape(2, 3, num_decomps, per_group * 2))


# ---------------------------------------------------------------------------------------------
# sums and sum ops
# ---------------------------------------------------------------------------------------------
SUM_OPS = {
    "grad": lambda: spnk.SumOpGradBackprop(),
    "grad_linear": lambda: spnk.SumOpGradBackprop(logspace_accumulators=False),
    "em": lambda: spnk.SumOpEMBackprop(),
    "hard_em": lambda: spnk.SumOpHardEMBackprop(sample_prob=0.3, seed=1),
    "unweighted": lambda: spnk.SumOpUnweightedHardEMBackprop(),
    "sample": lambda: spnk.SumOpSampleBackprop(),
}
# DESIGN.md section 3: log-space accumulators by default for the gradient op only.
EXPECTED_LOGSPACE = {"grad": True, "grad_linear": False, "em": False, "hard_em": False,
                     "unweighted": False, "sample": False}


def np_log_weights(acc, logspace):
    acc = np.asarray(acc, np.float64)
    if logspace:
        return acc - scipy.special.logsumexp(acc, axis=-2, keepdims=True)
    return np.log(acc / acc.sum(axis=-2, keepdims=True))


def np_dense_sum(x, log_w):
    """y[b,s,d,j] = logsumexp_i x[b,s,d,i] + log_w[s,d,i,j]."""
    return scipy.special.logsumexp(x[..., :, None].astype(np.float64) + log_w, axis=-2)


@pytest.mark.parametrize("op_name", list(SUM_OPS))
def test_dense_sum(tmp_path, op_name):
    op = SUM_OPS[op_name]()
    layer = L.DenseSum(2, sum_op=op)
    assert layer.logspace_accumulators is EXPECTED_LOGSPACE[op_name]
    x = region_input((3, 2, 2, 3), seed=15)
    x[1, 1, 0, :] = NEG_INF                                  # a region with probability 0
    y = check_layer_contract(layer, x, tmp_path)
    acc = layer.accumulators.numpy()
    assert acc.shape == (2, 2, 3, 2)
    expected = np_dense_sum(x, np_log_weights(acc, layer.logspace_accumulators))
    assert_close(y, expected)
    assert np.isneginf(y[1, 1, 0]).all()


def test_dense_sum_hard_em_reloads_with_its_op_and_sample_prob(tmp_path):
    layer = L.DenseSum(2, sum_op=spnk.SumOpHardEMBackprop(sample_prob=0.3, seed=1))
    model = spnk.SequentialSumProductNetwork([keras.Input((2, 1, 3)), layer])
    path = str(tmp_path / "hard_em.keras")
    model.save(path)
    with spnk.default_sum_op(spnk.SumOpGradBackprop()):
        loaded = keras.saving.load_model(path)
    op = loaded.layers[-1].sum_op
    assert type(op) is spnk.SumOpHardEMBackprop
    assert op.sample_prob == 0.3
    assert op.seed == 1
    assert loaded.layers[-1].logspace_accumulators is False


@pytest.mark.parametrize("op_name", ["em", "hard_em", "sample"])
def test_dense_sum_records_the_context_default_op(tmp_path, op_name):
    op = SUM_OPS[op_name]()
    with spnk.default_sum_op(op):
        assert spnk.get_default_sum_op() is op
        layer = L.DenseSum(2)
    assert type(spnk.get_default_sum_op()) is not type(op)    # the block restored the default
    assert layer.sum_op is op
    x = region_input((2, 2, 1, 3), seed=16)
    # The contract reloads under a different default: the recorded op must win.
    check_layer_contract(layer, x, tmp_path)
    assert layer.get_config()["sum_op"]["class_name"] == type(op).__name__


@pytest.mark.parametrize("op_name", ["grad", "unweighted"])
@pytest.mark.parametrize("weighted_children", [True, False])
def test_root_sum(tmp_path, weighted_children, op_name):
    layer = L.RootSum(return_weighted_child_logits=weighted_children, sum_op=SUM_OPS[op_name]())
    x = region_input((3, 1, 2, 3), seed=17)
    y = check_layer_contract(layer, x, tmp_path)
    acc = layer.accumulators.numpy()
    assert acc.shape == (1, 1, 6, 1)
    log_w = np_log_weights(acc, layer.logspace_accumulators)[0, 0, :, 0]     # [D*N]
    children = np.empty((3, 6))
    for d, n in np.ndindex(2, 3):
        children[:, d * 3 + n] = x[:, 0, d, n]
    weighted = children + log_w
    if weighted_children:
        assert_close(y, weighted)
    else:
        assert_close(y, scipy.special.logsumexp(weighted, axis=-1, keepdims=True))


@pytest.mark.parametrize("op_name", ["grad", "em", "hard_em", "unweighted", "sample"])
def test_sum_op_contract(op_name):
    op = SUM_OPS[op_name]()
    # config round trips, directly and through Keras' registered serialisation
    clone = type(op).from_config(op.get_config())
    assert clone == op and type(clone) is type(op)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(op))
    assert type(restored) is type(op)
    assert restored.get_config() == op.get_config()
    if op_name == "hard_em":
        assert restored.sample_prob == 0.3 and restored.seed == 1
    assert op.default_logspace_accumulators() is EXPECTED_LOGSPACE[op_name]
    with spnk.default_sum_op(op):
        assert spnk.get_default_sum_op() is op
    assert spnk.get_default_sum_op() is not op

    # the same forward value for every op, eager and in a tf.function
    logspace = op.default_logspace_accumulators()
    rng = np.random.default_rng(18)
    linear = rng.uniform(0.1, 1.0, size=(2, 1, 3, 2)).astype("float32")
    acc = np.log(linear) if logspace else linear
    x = region_input((4, 2, 1, 3), seed=19)
    expected = np_dense_sum(x, np_log_weights(linear, False))

    def forward_and_signal(xt):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = op.weighted_sum(xt, tf.constant(acc), logspace)
            total = tf.reduce_sum(tf.where(tf.math.is_finite(y), y, 0.0))
        return y, tape.gradient(total, xt)

    y_eager, dx_eager = forward_and_signal(tf.constant(x))
    y_graph, dx_graph = tf.function(forward_and_signal)(tf.constant(x))
    assert_close(y_eager, expected)
    assert_close(y_graph, expected)
    # Backward: every op sends the whole signal of a region (2 sums x dy = 1) to its children.
    for dx in (dx_eager, dx_graph):
        dx = np.asarray(dx)
        assert np.isfinite(dx).all()
        row_sums = dx.sum(-1)
        expected_sums = np.where(np.isfinite(expected).all(-1), 2.0, row_sums)
        np.testing.assert_allclose(row_sums, expected_sums, rtol=1e-5)
    if op_name in ("grad", "em"):                              # deterministic ops
        assert_close(dx_graph, dx_eager)


# ---------------------------------------------------------------------------------------------
# misc layers
# ---------------------------------------------------------------------------------------------
def test_log_dropout_contract_is_identity_outside_training(tmp_path):
    x = region_input((3, 2, 2, 4), seed=20)
    layer = L.LogDropout(0.5, seed=3)
    y = check_layer_contract(layer, x, tmp_path)
    assert_identical(y, x)
    assert_identical(layer(x, training=False), x)


def test_log_dropout_training_gives_x_or_neg_inf():
    x = region_input((4, 5, 2, 10), seed=21, with_neg_inf=False)
    layer = L.LogDropout(0.5, seed=3)
    for y in (layer(x, training=True),
              tf.function(lambda t: layer(t, training=True))(tf.constant(x))):
        y = np.asarray(y)
        kept = y == x
        dropped = np.isneginf(y)
        assert (kept | dropped).all()
        assert 0.3 < dropped.mean() < 0.7                     # 400 values at rate 0.5
    # noise_shape: whole node vectors dropped together
    layer = L.LogDropout(0.5, noise_shape=[5, 2, 1], seed=4)
    y = np.asarray(layer(x, training=True))
    dropped = np.isneginf(y)
    assert (dropped.all(-1) | ~dropped.any(-1)).all()
    assert ((y == x) | dropped).all()
    # axis_at_least_one keeps one survivor per row even at a high rate
    layer = L.LogDropout(0.99, axis_at_least_one=-1, seed=5)
    y = np.asarray(layer(x, training=True))
    assert np.isfinite(y).any(-1).all()
    assert ((y == x) | np.isneginf(y)).all()


def test_normalize_standard_score_sample_wise(tmp_path):
    x = np.random.default_rng(22).normal(loc=3.0, scale=2.0, size=(5, 4)).astype("float32")
    layer = L.NormalizeStandardScore(normalization_epsilon=1e-3)
    y = check_layer_contract(layer, x, tmp_path)
    xd = x.astype(np.float64)
    mean = xd.mean(axis=1, keepdims=True)
    std = xd.std(axis=1, keepdims=True)
    assert_close(y, (xd - mean) / (std + 1e-3))


@pytest.mark.parametrize("axes", ["variable-wise", "global"])
def test_normalize_standard_score_adapted(tmp_path, axes):
    rng = np.random.default_rng(23)
    data = rng.normal(loc=[0.0, 5.0, -2.0, 1.0], scale=[1.0, 3.0, 0.5, 2.0],
                      size=(50, 4)).astype("float32")
    layer = L.NormalizeStandardScore(normalization_epsilon=1e-3, axes=axes)
    layer.adapt(data)
    x = data[:6]
    y = check_layer_contract(layer, x, tmp_path)
    dd = data.astype(np.float64)
    axis = 0 if axes == "variable-wise" else None
    expected = (x - dd.mean(axis=axis)) / (dd.std(axis=axis) + 1e-3)
    assert_close(y, expected)


# ---------------------------------------------------------------------------------------------
# a whole model (every layer kind in one .keras file)
# ---------------------------------------------------------------------------------------------
def test_sequential_model_round_trip_keeps_flags_and_ops(tmp_path):
    layers = [keras.Input((4,), dtype="int32"), L.FlatToRegions(2, dtype="int32"),
              L.IndicatorLeaf(2), L.DenseSum(2, sum_op=spnk.SumOpEMBackprop()),
              L.PermuteAndPadScopesRandom(), L.DenseProduct(2),
              L.DenseSum(2, sum_op=spnk.SumOpHardEMBackprop(sample_prob=0.3, seed=1)),
              L.DenseProduct(2), L.RootSum(return_weighted_child_logits=False,
                                           sum_op=spnk.SumOpUnweightedHardEMBackprop())]
    model = spnk.SequentialSumProductNetwork(layers, infer_no_evidence=True, unsupervised=False,
                                             infer_weighted_sum=False)
    assert model.layers[3].factors == [2, 2]                   # filled in from the products
    x = np.array(list(np.ndindex(2, 2, 2, 2)), dtype="int32")   # all 16 states
    y = np.asarray(model(x))
    assert y.shape == (16, 1)
    # a normalised SPN over 4 binary variables: the probabilities sum to 1
    np.testing.assert_allclose(scipy.special.logsumexp(y.astype(np.float64)), 0.0, atol=1e-5)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert_identical(loaded(x), y)
    assert (loaded.infer_no_evidence, loaded.unsupervised, loaded.infer_weighted_sum) == \
        (True, False, False)
    ops = [type(l.sum_op) for l in loaded.sum_layers]
    assert ops == [spnk.SumOpEMBackprop, spnk.SumOpHardEMBackprop,
                   spnk.SumOpUnweightedHardEMBackprop]
    assert loaded.sum_layers[1].sum_op.sample_prob == 0.3


# ---------------------------------------------------------------------------------------------
# online EM optimiser
# ---------------------------------------------------------------------------------------------
def test_online_em_config_round_trip():
    opt = spnk.OnlineExpectationMaximization(learning_rate=0.25, accumulate_batches=3)
    config = opt.get_config()
    assert config["accumulate_batches"] == 3
    assert config["learning_rate"] == pytest.approx(0.25)
    clone = spnk.OnlineExpectationMaximization.from_config(config)
    assert clone.accumulate_batches == 3
    assert float(clone.learning_rate) == pytest.approx(0.25)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored) is spnk.OnlineExpectationMaximization
    assert restored.accumulate_batches == 3


def test_online_em_update_rule_matches_numpy():
    v0 = np.array([[0.2, 0.5], [0.8, 0.5]], np.float32)
    g = np.array([[-0.6, -0.1], [-0.4, -0.9]], np.float32)
    var = keras.Variable(v0)
    opt = spnk.OnlineExpectationMaximization(learning_rate=0.3)
    opt.apply_gradients([(tf.constant(g), var)])
    np.testing.assert_allclose(var.numpy(), 0.7 * v0 + 0.3 * (-g), rtol=1e-6)


def test_online_em_accumulate_batches_averages_signals():
    v0 = np.array([0.5, 0.5], np.float32)
    g1 = np.array([-1.0, 0.0], np.float32)
    g2 = np.array([0.0, -1.0], np.float32)
    var = keras.Variable(v0)
    opt = spnk.OnlineExpectationMaximization(learning_rate=0.5, accumulate_batches=2)
    opt.apply_gradients([(tf.constant(g1), var)])
    np.testing.assert_array_equal(var.numpy(), v0)            # no update on the first batch
    opt.apply_gradients([(tf.constant(g2), var)])
    np.testing.assert_allclose(var.numpy(), 0.5 * v0 + 0.5 * -(g1 + g2) / 2, rtol=1e-6)


def test_online_em_saved_with_compiled_model(tmp_path):
    model = spnk.SequentialSumProductNetwork(
        [keras.Input((2, 1, 3)), L.DenseSum(1, sum_op=spnk.SumOpEMBackprop()),
         L.DenseProduct(2), L.RootSum(return_weighted_child_logits=False,
                                      sum_op=spnk.SumOpEMBackprop())])
    model.compile(optimizer=spnk.OnlineExpectationMaximization(0.125, accumulate_batches=2),
                  loss=spnk.losses.NegativeLogLikelihood())
    x = region_input((6, 2, 1, 3), seed=28, with_neg_inf=False)
    model.fit(x, epochs=1, batch_size=2, verbose=0)           # 3 steps: one update, one pending
    path = str(tmp_path / "em.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.optimizer) is spnk.OnlineExpectationMaximization
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.125)
    assert loaded.optimizer.accumulate_batches == 2
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 1   # 3 // 2
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        assert_identical(b, a)                                  # pending accumulated signal too
    assert_identical(loaded(x), model(x))


# ---------------------------------------------------------------------------------------------
# constraints
# ---------------------------------------------------------------------------------------------
def _check_constraint_config(constraint):
    clone = type(constraint).from_config(constraint.get_config())
    assert clone.get_config() == constraint.get_config()
    restored = keras.constraints.deserialize(keras.constraints.serialize(constraint))
    assert type(restored) is type(constraint)
    assert restored.get_config() == constraint.get_config()
    return restored


W = np.array([[[[0.5, -1.0], [0.0, 2.0], [1.5, 1e-12]]]], np.float32)   # [1, 1, 3, 2]


@pytest.mark.parametrize("epsilon", [1e-10, 0.3])
def test_greater_equal_epsilon_normalized(epsilon):
    constraint = _check_constraint_config(C.GreaterEqualEpsilonNormalized(epsilon=epsilon))
    out = np.asarray(constraint(tf.constant(W)))
    c = np.maximum(W.astype(np.float64), epsilon / 3)
    assert_close(out, c / c.sum(axis=-2, keepdims=True), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out.sum(-2), 1.0, rtol=1e-6)
    assert (out > 0).all()


def test_log_normalized():
    constraint = _check_constraint_config(C.LogNormalized())
    out = np.asarray(constraint(tf.constant(W)))
    wd = W.astype(np.float64)
    assert_close(out, wd - np.log(np.exp(wd).sum(axis=-2, keepdims=True)), rtol=1e-6)


@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (-0.5, None)])
def test_clip(lo, hi):
    constraint = _check_constraint_config(C.Clip(lo, hi))
    out = np.asarray(constraint(tf.constant(W)))
    expected = np.maximum(W, lo) if hi is None else np.clip(W, lo, hi)
    assert_identical(out, expected.astype(np.float32))


def test_greater_equal_epsilon():
    constraint = _check_constraint_config(C.GreaterEqualEpsilon(0.25))
    assert_identical(constraint(tf.constant(W)), np.maximum(W, np.float32(0.25)))


def test_constraints_are_applied_by_dense_sum():
    layer = L.DenseSum(2, sum_op=spnk.SumOpEMBackprop(),
                       accumulator_initializer=keras.initializers.Constant(3.0),
                       linear_accumulator_constraint=C.GreaterEqualEpsilonNormalized())
    layer(region_input((1, 1, 1, 4), seed=24))
    np.testing.assert_allclose(layer.accumulators.numpy(), np.full((1, 1, 4, 2), 0.25),
                               rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# initializers
# ---------------------------------------------------------------------------------------------
def _check_initializer_config(init):
    clone = type(init).from_config(init.get_config())
    assert clone.get_config() == init.get_config()
    restored = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert type(restored) is type(init)
    return restored


@pytest.mark.parametrize("axis", [-2, -1, 0])
def test_dirichlet(axis):
    init = _check_initializer_config(I.Dirichlet(axis=axis, alpha=0.5, seed=7))
    shape = (2, 3, 4, 5)
    values = np.asarray(init(shape))
    assert values.shape == shape
    assert (values >= 0).all()
    np.testing.assert_allclose(values.sum(axis=axis), 1.0, rtol=1e-5)
    assert_identical(I.Dirichlet(axis=axis, alpha=0.5, seed=7)(shape), values)   # seeded


def test_dirichlet_mean_matches_alpha():
    alpha = np.array([1.0, 2.0, 5.0])
    values = np.asarray(I.Dirichlet(axis=-2, alpha=alpha, seed=0)((4000, 3, 1)), np.float64)
    np.testing.assert_allclose(values[..., 0].mean(0), alpha / alpha.sum(), atol=0.02)


def test_dense_sum_default_initializer_is_normalised_dirichlet():
    layer = L.DenseSum(3, sum_op=spnk.SumOpEMBackprop())
    layer(region_input((1, 2, 2, 4), seed=25))
    np.testing.assert_allclose(layer.accumulators.numpy().sum(-2), 1.0, rtol=1e-5)


@pytest.mark.parametrize("axis", [-2, -1])
def test_epsilon_inverse_fan_in(axis):
    init = _check_initializer_config(I.EpsilonInverseFanIn(axis=axis, epsilon=1e-2))
    values = np.asarray(init((2, 4, 5)))
    assert_close(values, np.full((2, 4, 5), 1e-2 / (4, 5)[axis]), rtol=1e-6, atol=0)


def test_equidistant_plain_shapes():
    init = _check_initializer_config(I.Equidistant(-1.0, 2.0))
    values = np.asarray(init((2, 3, 4)))
    assert_close(values, np.broadcast_to(np.linspace(-1.0, 2.0, 4), (2, 3, 4)), rtol=1e-6)
    values = np.asarray(I.Equidistant(0.0, 1.0, axis=0)((3, 2)))
    assert_close(values, np.broadcast_to(np.array([[0.0], [0.5], [1.0]]), (3, 2)), rtol=1e-6)


def test_equidistant_spreads_leaf_components():
    """On leaf parameters `[1, S, D, K, V]` the components (not the variables) are spaced."""
    leaf = L.NormalLeaf(3, location_initializer=I.Equidistant(-1.0, 1.0))
    leaf(np.zeros((1, 2, 2, 2), "float32"))
    loc = leaf.location.numpy()
    assert loc.shape == (1, 2, 2, 3, 2)
    expected = np.broadcast_to(np.array([-1.0, 0.0, 1.0])[:, None], (1, 2, 2, 3, 2))
    assert_close(loc, expected, rtol=1e-6, atol=1e-7)


def _np_quantile_stats(data, k):
    """Per variable: sort, cut into k equal groups, mean and std of each. `[V, k]` each."""
    n = data.shape[0] // k
    means, stds = np.empty((data.shape[1], k)), np.empty((data.shape[1], k))
    for v in range(data.shape[1]):
        col = np.sort(data[:, v])
        for q in range(k):
            group = col[q * n:(q + 1) * n]
            means[v, q], stds[v, q] = group.mean(), max(group.std(), 1e-3)
    return means, stds


def test_poon_domingos_quantile_splits():
    data = np.random.default_rng(26).normal(size=(12, 3)) * [1.0, 5.0, 0.1]
    means, stds = _np_quantile_stats(data, 3)
    mean_init = I.PoonDomingosMeanOfQuantileSplit(data)
    std_init = I.PoonDomingosStddevOfQuantileSplit()
    std_init.adapt(data)
    _check_initializer_config(I.PoonDomingosMeanOfQuantileSplit())
    # [S, D, K] parameters
    assert_close(mean_init((3, 2, 3)), np.broadcast_to(means[:, None, :], (3, 2, 3)))
    assert_close(std_init((3, 2, 3)), np.broadcast_to(stds[:, None, :], (3, 2, 3)))
    # leaf parameters [1, S, D, K, V]: components along -2
    expected = np.broadcast_to(means[None, :, None, :, None], (1, 3, 2, 3, 1))
    assert_close(mean_init((1, 3, 2, 3, 1)), expected)


def test_poon_domingos_initialises_a_leaf():
    data = np.random.default_rng(27).normal(size=(20, 2)) * [1.0, 3.0]
    means, stds = _np_quantile_stats(data, 4)
    leaf = L.NormalLeaf(4, location_initializer=I.PoonDomingosMeanOfQuantileSplit(data),
                        scale_initializer=I.PoonDomingosStddevOfQuantileSplit(data))
    leaf(np.zeros((1, 2, 3, 1), "float32"))
    loc, scale = leaf.location_and_scale()
    assert_close(loc, np.broadcast_to(means[None, :, None, :, None], (1, 2, 3, 4, 1)))
    assert_close(scale, np.broadcast_to(stds[None, :, None, :, None], (1, 2, 3, 4, 1)))


def test_poon_domingos_without_data_is_a_clear_error():
    with pytest.raises(RuntimeError, match="needs data"):
        I.PoonDomingosMeanOfQuantileSplit()((2, 1, 3))


# ---------------------------------------------------------------------------------------------
# coverage: every exported layer class is exercised above
# ---------------------------------------------------------------------------------------------
def test_every_exported_layer_is_covered():
    covered = {"IndicatorLeaf", "CategoricalLeaf", "BernoulliLeaf", "NormalLeaf", "CauchyLeaf",
               "LaplaceLeaf", "FlatToRegions", "PermuteAndPadScopes",
               "PermuteAndPadScopesRandom", "DenseProduct", "ReduceProduct", "Undecompose",
               "DenseSum", "RootSum", "LogDropout", "NormalizeStandardScore",
               # exercised with the same contract checker in test_spatial_layers.py
               "Conv2DProduct", "Conv2DSum", "Local2DSum", "SpatialToRegions"}
    abstract = {"BaseLeaf", "LocationScaleLeafBase", "SumLayerBase"}
    assert set(L.__all__) == covered | abstract
