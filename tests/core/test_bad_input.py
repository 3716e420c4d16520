"""Bad input is a clear error (DESIGN.md section 7).

Every case asserts the exception type and that the message names the argument and the received
value, e.g. "Expected `sample_prob` in [0, 1]. Received: sample_prob=1.5". Bad data (NaN, wrong
dtype, out-of-range indicator values, wrong number of variables) must never turn into a silent
NaN log-likelihood, and a failed query must leave the model as it was.
"""
import re

import numpy as np
import pytest
import keras
import tensorflow as tf

import spnlab.core as spnk
from spnlab.core import layers as L

NUM_VARS = 6


@pytest.fixture(scope="module")
def model():
    return spnk.ratspn(num_vars=NUM_VARS, depth=1, num_repetitions=2, num_input_distributions=2,
                       num_sums=2, seed=0)


@pytest.fixture
def data():
    return np.random.default_rng(0).integers(0, 2, size=(4, NUM_VARS)).astype("int32")


def _all_observed(x):
    return np.ones(np.shape(x)[:2], dtype=bool)


# Every data-taking query, called with all variables observed.
QUERIES = {
    "log_likelihood": lambda m, x: spnk.log_likelihood(m, x),
    "marginal": lambda m, x: spnk.marginal(m, x, _all_observed(x)),
    "mpe": lambda m, x: spnk.mpe(m, x),
    "mpe_hard_em": lambda m, x: spnk.mpe(m, x, _all_observed(x), method="hard_em"),
    "posterior_mean": lambda m, x: spnk.posterior_mean(m, x, _all_observed(x)),
    "sample_with_evidence": lambda m, x: spnk.sample(m, x=x, evidence_mask=_all_observed(x)),
    "conditional": lambda m, x: spnk.conditional(
        m, x, _all_observed(x), np.zeros(np.shape(x)[:2], bool)),
}


def _snapshot(model):
    return ([w.copy() for w in model.get_weights()],
            [(type(l.sum_op), l.sum_op.get_config()) for l in model.sum_layers],
            [getattr(l, "return_weighted_child_logits", None) for l in model.sum_layers])


def _assert_unchanged(model, snapshot):
    weights, ops, flags = _snapshot(model)
    for a, b in zip(weights, snapshot[0]):
        np.testing.assert_array_equal(a, b)
    assert ops == snapshot[1]
    assert flags == snapshot[2]


# ---------------------------------------------------------------------------------------------
# data given to the queries
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("num_vars", [5, 7])
def test_wrong_number_of_variables(model, data, query, num_vars):
    x = np.zeros((4, num_vars), "int32")
    before = _snapshot(model)
    with pytest.raises(ValueError, match=re.escape(
            f"Expected `x` of shape [batch, {NUM_VARS}]. Received: x.shape=(4, {num_vars})")):
        QUERIES[query](model, x)
    _assert_unchanged(model, before)


@pytest.mark.parametrize("query", ["log_likelihood", "mpe"])
def test_rank_one_data(model, data, query):
    with pytest.raises(ValueError, match=re.escape("Received: x.shape=(6,)")):
        QUERIES[query](model, data[0])


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("kind", ["str", "object", "object_numbers"])
def test_wrong_dtype(model, data, query, kind):
    if kind == "str":
        x, shown = data.astype(str), "<U"
    elif kind == "object":
        x, shown = np.array([[None, "a", 1, 2.0, [0], {}]] * 4, dtype=object), "object"
    else:
        x, shown = data.astype(object), "object"
    with pytest.raises(TypeError, match=r"`x` to hold numbers\. Received dtype " + shown):
        QUERIES[query](model, x)


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_observed_data(model, data, query, bad):
    x = data.astype("float32")
    x[2, 3] = bad
    before = _snapshot(model)
    with pytest.raises(ValueError, match=re.escape(
            "Expected finite `x` values where observed. Received NaN or inf at index (2, 3)")):
        QUERIES[query](model, x)
    _assert_unchanged(model, before)


def test_nan_allowed_where_unobserved_in_marginal(model, data):
    x = data.astype("float32")
    x[0, 1] = np.nan
    mask = _all_observed(x)
    mask[0, 1] = False
    got = spnk.marginal(model, x, mask)
    assert np.isfinite(got).all()
    # the unobserved value does not matter, and the marginal sums it out by brute force
    states = []
    for value in (0, 1):
        filled = data.copy()
        filled[0, 1] = value
        np.testing.assert_allclose(spnk.marginal(model, filled, mask), got, rtol=1e-6)
        states.append(spnk.log_likelihood(model, filled)[0])
    np.testing.assert_allclose(got[0], np.logaddexp(*states), rtol=1e-5)
    np.testing.assert_allclose(got[1:], spnk.log_likelihood(model, data)[1:], rtol=1e-6)
    # and MPE / sampling fill the NaN in, keeping the observed values
    for completed in (spnk.mpe(model, x, mask),
                      spnk.sample(model, x=x, evidence_mask=mask, seed=0)):
        assert np.isfinite(completed).all()
        assert completed[0, 1] in (0, 1)
        np.testing.assert_array_equal(completed[mask], x[mask])


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("bad", [2, -1, 7])
def test_indicator_value_out_of_range(model, data, query, bad):
    x = data.copy()
    x[1, 4] = bad
    before = _snapshot(model)
    with pytest.raises(ValueError, match=re.escape(
            f"Expected `x` values in [0, 2). Received: {bad}")):
        QUERIES[query](model, x)
    # the temporary sum op of the failed pass was restored, nothing else changed
    _assert_unchanged(model, before)


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("bad", [0.5, -0.5, 1.7])
def test_indicator_value_not_an_integer(model, data, query, bad):
    # Float data for an int32 model: 0.5 must not be truncated to 0 without a word.
    x = data.astype("float32")
    x[3, 0] = bad
    with pytest.raises(ValueError, match=re.escape(
            f"Expected integer values in `x` (IndicatorLeaf data). Received: x[3, 0]={bad}")):
        QUERIES[query](model, x)


def test_non_integer_allowed_where_unobserved(model, data):
    x = data.astype("float32")
    x[3, 0] = 0.5
    mask = _all_observed(x)
    mask[3, 0] = False
    filled = data.copy()
    filled[3, 0] = 1
    np.testing.assert_array_equal(spnk.marginal(model, x, mask),
                                  spnk.marginal(model, filled, mask))


@pytest.mark.parametrize("marker", [-1, 7])
def test_any_integer_marker_allowed_where_unobserved(model, data, marker):
    x = data.copy()
    x[2, 1] = marker
    mask = _all_observed(x)
    mask[2, 1] = False
    filled = data.copy()
    filled[2, 1] = 0
    np.testing.assert_array_equal(spnk.marginal(model, x, mask), spnk.marginal(model, filled, mask))
    completed = spnk.mpe(model, x, mask)
    assert completed[2, 1] in (0, 1)


def test_integer_valued_float_data_is_accepted(model, data):
    np.testing.assert_allclose(spnk.log_likelihood(model, data.astype("float64")),
                               spnk.log_likelihood(model, data), rtol=1e-6)


@pytest.mark.parametrize("bad", [2, -1])
def test_training_on_out_of_range_values_fails_and_changes_nothing(data, bad):
    """Inside `fit` (a tf.function) the leaf asserts at run time instead of training on -inf."""
    model = spnk.ratspn(num_vars=NUM_VARS, depth=1, num_repetitions=2, num_input_distributions=2,
                        num_sums=2, seed=0, sum_op=spnk.SumOpEMBackprop())
    model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                  optimizer=spnk.OnlineExpectationMaximization(0.5))
    model.train_on_batch(data)                       # trace and take one good step
    x = data.copy()
    x[1, 4] = bad
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=re.escape("Expected `x` values in [0, 2). Received a")):
        model.train_on_batch(x)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_leaf_layers_reject_out_of_range_values_directly():
    with pytest.raises(ValueError, match=re.escape("Expected `x` values in [0, 3). Received: 3")):
        L.IndicatorLeaf(3)(np.full((1, 2, 1, 1), 3, "int32"))
    with pytest.raises(ValueError, match=re.escape("Expected `x` values in [0, 4). Received: 4")):
        L.CategoricalLeaf(2, num_categories=4)(np.full((1, 2, 1, 1), 4, "int32"))
    with pytest.raises(ValueError, match=re.escape("Expected `x` values in [0, 2). Received: -1")):
        L.BernoulliLeaf(2)(np.full((1, 2, 1, 1), -1, "int32"))
    with pytest.raises(ValueError, match=re.escape("Expected integer values in `x`. Received: 0.5")):
        L.CategoricalLeaf(2, num_categories=3)(np.full((1, 2, 1, 1), 0.5, "float32"))
    with pytest.raises(ValueError, match=re.escape("Expected finite `x` values. Received NaN")):
        L.CategoricalLeaf(2, num_categories=3)(np.full((1, 2, 1, 1), np.nan, "float32"))


# ---------------------------------------------------------------------------------------------
# evidence masks
# ---------------------------------------------------------------------------------------------
MASK_QUERIES = {
    "marginal": lambda m, x, mask: spnk.marginal(m, x, mask),
    "mpe": lambda m, x, mask: spnk.mpe(m, x, mask),
    "posterior_mean": lambda m, x, mask: spnk.posterior_mean(m, x, mask),
    "sample": lambda m, x, mask: spnk.sample(m, x=x, evidence_mask=mask),
    "variable_marginals": lambda m, x, mask: spnk.variable_marginals(m, x, mask),
}


@pytest.mark.parametrize("query", list(MASK_QUERIES))
@pytest.mark.parametrize("shape", [(4, 5), (3, 6), (6,)])
def test_evidence_mask_wrong_shape(model, data, query, shape):
    mask = np.ones(shape, bool)
    with pytest.raises(ValueError, match=re.escape(
            f"Expected `evidence_mask` of shape (4, 6). Received: evidence_mask.shape={shape}")):
        MASK_QUERIES[query](model, data, mask)


@pytest.mark.parametrize("query", list(MASK_QUERIES))
@pytest.mark.parametrize("dtype", ["int64", "float32", "<U1"])
def test_evidence_mask_not_bool(model, data, query, dtype):
    mask = np.ones(data.shape).astype(dtype)
    with pytest.raises(TypeError, match=re.escape(
            f"Expected `evidence_mask` of dtype bool. Received dtype {np.dtype(dtype)}")):
        MASK_QUERIES[query](model, data, mask)


# ---------------------------------------------------------------------------------------------
# query arguments
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["foo", "MAX_PRODUCT", None])
def test_mpe_unknown_method(model, data, method):
    with pytest.raises(ValueError, match=re.escape(f"Received: method={method!r}")) as info:
        spnk.mpe(model, data, method=method)
    assert "`method`" in str(info.value)


@pytest.mark.parametrize("num_samples", [0, -3, 1.5, None, True, "2"])
def test_sample_bad_num_samples(model, num_samples):
    with pytest.raises(ValueError, match=re.escape(
            f"Expected `num_samples` to be a positive int when `x` is None. "
            f"Received: num_samples={num_samples!r}")):
        spnk.sample(model, num_samples=num_samples)


def test_sample_takes_num_samples_or_x_not_both(model):
    """Layer and graph queries check the pair the same way (`core.queries.passes`)."""
    from spnlab.graph import IndicatorLeaf, Sum
    from spnlab.graph import queries as graph_queries

    x = np.zeros((2, 4), np.int32)
    message = re.escape("Expected either `num_samples` or `x`, not both. Received: num_samples=2")
    with pytest.raises(ValueError, match=message):
        spnk.sample(model, num_samples=2, x=x, evidence_mask=np.ones_like(x, bool))
    leaf = IndicatorLeaf(1, 2)
    root = Sum((leaf, 0), (leaf, 1))
    with pytest.raises(ValueError, match=message):
        graph_queries.sample(root, num_samples=2, x=np.zeros((2, 1), np.int32),
                             evidence_mask=np.ones((2, 1), bool))
    with pytest.raises(ValueError, match=re.escape("Received: num_samples=0")):
        graph_queries.sample(root, num_samples=0)


# ---------------------------------------------------------------------------------------------
# constructor arguments
# ---------------------------------------------------------------------------------------------
NEEDS_LINEAR = (" needs linear accumulators (its weight signal is a count). "
                "Received: logspace_accumulators=True")


def _em_dense_sum(op):
    return lambda: L.DenseSum(2, sum_op=op(), logspace_accumulators=True)


CONSTRUCTOR_CASES = {
    # sum ops
    "hard_em_sample_prob_1.5": (lambda: spnk.SumOpHardEMBackprop(sample_prob=1.5), ValueError,
                                "Expected `sample_prob` in [0, 1]. Received: sample_prob=1.5"),
    "hard_em_sample_prob_-0.1": (lambda: spnk.SumOpHardEMBackprop(sample_prob=-0.1), ValueError,
                                 "Expected `sample_prob` in [0, 1]. Received: sample_prob=-0.1"),
    "hard_em_sample_prob_nan": (lambda: spnk.SumOpHardEMBackprop(sample_prob=float("nan")),
                                ValueError, "Received: sample_prob=nan"),
    "hard_em_sample_prob_str": (lambda: spnk.SumOpHardEMBackprop(sample_prob="a"), TypeError,
                                "`sample_prob` to be None or a number. Received: sample_prob='a'"),
    "hard_em_sample_prob_bool": (lambda: spnk.SumOpHardEMBackprop(sample_prob=True), TypeError,
                                 "Received: sample_prob=True"),
    "unweighted_sample_prob_1.5": (
        lambda: spnk.SumOpUnweightedHardEMBackprop(sample_prob=1.5), ValueError,
        "Expected `sample_prob` in [0, 1]. Received: sample_prob=1.5"),
    "unweighted_sample_prob_-0.1": (
        lambda: spnk.SumOpUnweightedHardEMBackprop(sample_prob=-0.1), ValueError,
        "Expected `sample_prob` in [0, 1]. Received: sample_prob=-0.1"),
    "unweighted_sample_prob_str": (
        lambda: spnk.SumOpUnweightedHardEMBackprop(sample_prob="a"), TypeError,
        "`sample_prob` to be None or a number. Received: sample_prob='a'"),
    "hard_em_seed_str": (lambda: spnk.SumOpHardEMBackprop(seed="1"), TypeError,
                         "Received: seed='1'"),
    "grad_logspace_str": (lambda: spnk.SumOpGradBackprop(logspace_accumulators="yes"), TypeError,
                          "Received: logspace_accumulators='yes'"),
    "default_sum_op_str": (lambda: spnk.default_sum_op("grad").__enter__(), TypeError,
                           "Received: sum_op='grad'"),
    "set_default_sum_op_str": (lambda: spnk.set_default_sum_op("grad"), TypeError,
                               "Received: sum_op='grad'"),
    # sum layers
    "dense_sum_num_sums_0": (lambda: L.DenseSum(0), ValueError,
                             "Expected `num_sums` to be a positive int. Received: num_sums=0"),
    "dense_sum_num_sums_float": (lambda: L.DenseSum(2.0), ValueError, "Received: num_sums=2.0"),
    "dense_sum_sum_op_str": (lambda: L.DenseSum(2, sum_op="em"), TypeError,
                             "Received: sum_op='em'"),
    "dense_sum_logspace_str": (lambda: L.DenseSum(2, logspace_accumulators=1), TypeError,
                               "Received: logspace_accumulators=1"),
    "dense_sum_em_logspace": (_em_dense_sum(spnk.SumOpEMBackprop), ValueError,
                              "SumOpEMBackprop" + NEEDS_LINEAR),
    "dense_sum_hard_em_logspace": (_em_dense_sum(spnk.SumOpHardEMBackprop), ValueError,
                                   "SumOpHardEMBackprop" + NEEDS_LINEAR),
    "dense_sum_unweighted_logspace": (_em_dense_sum(spnk.SumOpUnweightedHardEMBackprop),
                                      ValueError, "SumOpUnweightedHardEMBackprop" + NEEDS_LINEAR),
    "dense_sum_sample_logspace": (_em_dense_sum(spnk.SumOpSampleBackprop), ValueError,
                                  "SumOpSampleBackprop" + NEEDS_LINEAR),
    "root_sum_em_logspace": (
        lambda: L.RootSum(sum_op=spnk.SumOpEMBackprop(), logspace_accumulators=True), ValueError,
        "SumOpEMBackprop" + NEEDS_LINEAR),
    # products and shapes
    "dense_product_num_factors_0": (
        lambda: L.DenseProduct(0), ValueError,
        "Expected `num_factors` to be a positive int. Received: num_factors=0"),
    "reduce_product_num_factors_0": (
        lambda: L.ReduceProduct(0), ValueError,
        "Expected `num_factors` to be a positive int. Received: num_factors=0"),
    "dense_product_num_factors_str": (lambda: L.DenseProduct("2"), ValueError,
                                      "Received: num_factors='2'"),
    "undecompose_0": (lambda: L.Undecompose(0), ValueError, "Received: num_decomps=0"),
    "flat_to_regions_0": (lambda: L.FlatToRegions(0), ValueError, "Received: num_decomps=0"),
    # leaves and misc layers
    "indicator_num_components_0": (lambda: L.IndicatorLeaf(0), ValueError,
                                   "Received: num_components=0"),
    "normal_num_components_0": (lambda: L.NormalLeaf(0), ValueError,
                                "Received: num_components=0"),
    "categorical_num_categories_1": (lambda: L.CategoricalLeaf(2, num_categories=1), ValueError,
                                     "Received: num_categories=1"),
    "log_dropout_rate": (lambda: L.LogDropout(1.5), ValueError,
                         "Expected `rate` in [0, 1]. Received: rate=1.5"),
    "normalize_axes": (lambda: L.NormalizeStandardScore(axes="rows"), ValueError,
                       "Received: axes='rows'"),
    "permute_1d": (lambda: L.PermuteAndPadScopes([0, 1]), ValueError,
                   "Expected `permutations` of shape [num_decomps, num_scopes_out]. "
                   "Received shape (2,)"),
    # optimiser
    "online_em_accumulate_0": (
        lambda: spnk.OnlineExpectationMaximization(accumulate_batches=0), ValueError,
        "Expected `accumulate_batches` to be a positive int. Received: accumulate_batches=0"),
    "online_em_accumulate_float": (
        lambda: spnk.OnlineExpectationMaximization(accumulate_batches=2.0), ValueError,
        "Received: accumulate_batches=2.0"),
    "online_em_lr_2": (lambda: spnk.OnlineExpectationMaximization(learning_rate=2), ValueError,
                       "Expected `learning_rate` in (0, 1]. Received: learning_rate=2"),
    "online_em_lr_0": (lambda: spnk.OnlineExpectationMaximization(learning_rate=0), ValueError,
                       "Received: learning_rate=0"),
    "online_em_lr_negative": (
        lambda: spnk.OnlineExpectationMaximization(learning_rate=-0.5), ValueError,
        "Received: learning_rate=-0.5"),
    # model builder
    "ratspn_num_vars_0": (lambda: spnk.ratspn(num_vars=0), ValueError, "Received: num_vars=0"),
    "ratspn_num_sums_0": (lambda: spnk.ratspn(num_vars=6, depth=1, num_sums=0), ValueError,
                          "Expected `num_sums` to be a positive int. Received: num_sums=0"),
    "ratspn_leaf": (lambda: spnk.ratspn(num_vars=6, depth=1, leaf="normal"), TypeError,
                    "Received: leaf='normal'"),
    # NaN or nonsense that used to give silent NaN log-likelihoods or truncated indices
    "normalize_eps_nan": (lambda: L.NormalizeStandardScore(normalization_epsilon=float("nan")),
                          ValueError, "Expected `normalization_epsilon` to be a finite number "
                          "in [0.0, inf). Received: normalization_epsilon=nan"),
    "normalize_eps_negative": (lambda: L.NormalizeStandardScore(normalization_epsilon=-1),
                               ValueError, "Received: normalization_epsilon=-1.0"),
    "normal_min_scale_nan": (lambda: L.NormalLeaf(2, min_scale=float("nan")), ValueError,
                             "Expected `min_scale` to be a finite number in (0.0, inf). "
                             "Received: min_scale=nan"),
    "normal_min_scale_0": (lambda: L.NormalLeaf(2, min_scale=0), ValueError,
                           "Received: min_scale=0.0"),
    "constraint_eps_inf": (lambda: spnk.constraints.GreaterEqualEpsilon(float("inf")),
                           ValueError, "Received: epsilon=inf"),
    "permutations_fraction": (lambda: L.PermuteAndPadScopes([[0.5, 1.7]]), ValueError,
                              "Expected integer `permutations`. Received: 0.5"),
    "permutations_strings": (lambda: L.PermuteAndPadScopes([["a", "b"]]), TypeError,
                             "Expected `permutations` to hold integers. Received dtype <U1"),
}


@pytest.mark.parametrize("case", list(CONSTRUCTOR_CASES))
def test_bad_constructor_argument(case):
    make, exc, message = CONSTRUCTOR_CASES[case]
    with pytest.raises(exc, match=re.escape(message)):
        make()


def test_zero_evidence_inference_needs_a_positive_size():
    model = spnk.ratspn(num_vars=NUM_VARS, depth=1, num_repetitions=2, num_input_distributions=2,
                        num_sums=2, seed=0)
    for size in (-2, 0, 1.5, True):
        with pytest.raises(ValueError, match=re.escape(f"positive int. Received: {size!r}")):
            model.zero_evidence_inference(size=size)


def _permuted_spn_layers(permutation):
    return [keras.Input(shape=[4], dtype="int32"), L.FlatToRegions(num_decomps=1),
            L.IndicatorLeaf(num_components=2), L.PermuteAndPadScopes([permutation]),
            L.DenseProduct(num_factors=2), L.DenseSum(num_sums=2),
            L.ReduceProduct(num_factors=2), L.RootSum()]


def test_a_repeated_scope_warns_and_validate_says_which_product():
    """LibSPN-Keras accepts [[0, 0, 2, 3]]: the SPN is not decomposable and its 16 states'
    probabilities do not sum to 1 (measured by enumeration here)."""
    import itertools
    import warnings
    from spnlab.graph import from_layer_model, validate
    with pytest.warns(UserWarning, match=r"row 0 repeats scope\(s\) \[0\].*not decomposable"):
        model = spnk.SequentialSumProductNetwork(_permuted_spn_layers([0, 0, 2, 3]))
    states = np.array(list(itertools.product([0, 1], repeat=4)))
    assert abs(np.exp(spnk.log_likelihood(model, states)).sum() - 1) > 0.01
    report = str(validate(from_layer_model(model).root))
    assert "is not decomposable" in report and "x0" in report
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # a proper permutation: no warning
        model = spnk.SequentialSumProductNetwork(_permuted_spn_layers([1, 0, 3, 2]))
    assert np.exp(spnk.log_likelihood(model, states)).sum() == pytest.approx(1, abs=1e-5)


def test_default_sum_op_unchanged_after_bad_context():
    before = spnk.get_default_sum_op()
    with pytest.raises(TypeError):
        with spnk.default_sum_op(None):
            pass
    assert spnk.get_default_sum_op() is before


# ---------------------------------------------------------------------------------------------
# shapes seen at build time
# ---------------------------------------------------------------------------------------------
BUILD_CASES = {
    "dense_product_not_divisible": (
        lambda: L.DenseProduct(2), (2, 3, 1, 2),
        "DenseProduct(num_factors=2) needs a number of scopes divisible by 2. "
        "Received: scopes=3"),
    "dense_product_3_not_divisible": (
        lambda: L.DenseProduct(3), (2, 4, 1, 2),
        "DenseProduct(num_factors=3) needs a number of scopes divisible by 3. "
        "Received: scopes=4"),
    "reduce_product_not_divisible": (
        lambda: L.ReduceProduct(2), (2, 5, 1, 2),
        "ReduceProduct(num_factors=2) needs a number of scopes divisible by 2. "
        "Received: scopes=5"),
    "root_sum_two_scopes": (
        lambda: L.RootSum(), (2, 2, 1, 3),
        "RootSum expects a single scope. Received: input_shape=(2, 2, 1, 3) (scopes=2)"),
    "root_sum_four_scopes_no_logits": (
        lambda: L.RootSum(return_weighted_child_logits=False), (2, 4, 2, 3),
        "Received: input_shape=(2, 4, 2, 3) (scopes=4)"),
    "dense_sum_rank_3": (lambda: L.DenseSum(2), (2, 3, 4), "Received: input_shape=(2, 3, 4)"),
    "undecompose_not_divisible": (lambda: L.Undecompose(2), (2, 1, 3, 2),
                                  "Undecompose(num_decomps=2) needs decomps divisible by it. "
                                  "Received: decomps=3"),
    "flat_to_regions_rank_4": (lambda: L.FlatToRegions(2), (2, 3, 1, 1),
                               "Received: input_shape=(2, 3, 1, 1)"),
    "permute_entry_too_large": (
        lambda: L.PermuteAndPadScopes([[0, 3, -1]]), (2, 3, 1, 2),
        "Expected `permutations` entries in [-1, 3). Received min=-1, max=3"),
    "permute_entry_below_minus_one": (
        lambda: L.PermuteAndPadScopes([[0, -2, 1]]), (2, 3, 1, 2),
        "Expected `permutations` entries in [-1, 3). Received min=-2, max=1"),
    "permute_wrong_rows": (
        lambda: L.PermuteAndPadScopes([[0, 1], [1, 0]]), (2, 2, 3, 1),
        "Expected `permutations` with one row per decomposition (3). Received shape (2, 2)"),
    "permute_none": (lambda: L.PermuteAndPadScopes(), (2, 2, 1, 1),
                     "PermuteAndPadScopes needs `permutations`. Received: None"),
    "permute_random_too_few_factors": (
        lambda: L.PermuteAndPadScopesRandom(factors=[2]), (2, 3, 1, 2),
        "Expected prod(factors) >= number of scopes (3). Received: factors=[2]"),
    "permute_random_too_few_factors_2": (
        lambda: L.PermuteAndPadScopesRandom(factors=[2, 2]), (2, 5, 1, 2),
        "Expected prod(factors) >= number of scopes (5). Received: factors=[2, 2]"),
    "permute_random_too_many_factors": (
        lambda: L.PermuteAndPadScopesRandom(factors=[2, 2, 2]), (2, 3, 1, 2),
        "Too many factors for 3 scopes. Received: factors=[2, 2, 2]"),
    "permute_random_no_factors": (
        lambda: L.PermuteAndPadScopesRandom(), (2, 3, 1, 2),
        "Received: factors=None"),
}


@pytest.mark.parametrize("case", list(BUILD_CASES))
def test_bad_input_shape_at_build(case):
    make, shape, message = BUILD_CASES[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        make()(np.zeros(shape, "float32"))


LEAVES = {
    "IndicatorLeaf": (lambda: L.IndicatorLeaf(2), "int32"),
    "CategoricalLeaf": (lambda: L.CategoricalLeaf(2, num_categories=3), "int32"),
    "BernoulliLeaf": (lambda: L.BernoulliLeaf(2), "int32"),
    "NormalLeaf": (lambda: L.NormalLeaf(2), "float32"),
    "CauchyLeaf": (lambda: L.CauchyLeaf(2), "float32"),
    "LaplaceLeaf": (lambda: L.LaplaceLeaf(2, use_accumulators=True), "float32"),
}


@pytest.mark.parametrize("leaf", list(LEAVES))
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 1)])
def test_leaf_rank_two_or_three_input(leaf, shape):
    make, dtype = LEAVES[leaf]
    with pytest.raises(ValueError, match=re.escape(
            f"{leaf} expects inputs [batch, scopes, decomps, var_dims] with known sizes "
            f"(use FlatToRegions first). Received: input_shape={shape}")):
        make()(np.zeros(shape, dtype))


def test_leaf_rank_two_input_in_a_model():
    with pytest.raises(ValueError, match=re.escape("Received: input_shape=(None, 6)")):
        spnk.SequentialSumProductNetwork([keras.Input((6,)), L.NormalLeaf(2)])


def test_conditional_checks_the_query_mask_like_the_evidence_mask(model, data):
    evidence = _all_observed(data)
    with pytest.raises(TypeError, match="query_mask"):
        spnk.conditional(model, data, np.ones(data.shape, "int32"), evidence)
    with pytest.raises(ValueError, match=re.escape("query_mask.shape=(4, 3)")):
        spnk.conditional(model, data, np.ones((4, 3), bool), evidence)


def test_region_graph_with_too_few_sum_sizes_says_how_many_it_needs():
    tree = spnk.RegionNode([spnk.RegionVariable(0), spnk.RegionNode([
        spnk.RegionVariable(1), spnk.RegionNode([spnk.RegionVariable(2),
                                                 spnk.RegionVariable(3)])])])
    with pytest.raises(ValueError, match="give 3 sizes.*Received only 2"):
        spnk.region_graph_to_dense_spn(tree, L.IndicatorLeaf(2), [2, 2], False,
                                       product_first=False)
    model = spnk.region_graph_to_dense_spn(tree, L.IndicatorLeaf(2), [2, 2, 2], False,
                                           product_first=False)
    assert sum(isinstance(layer, L.DenseSum) for layer in model.layers) == 3
