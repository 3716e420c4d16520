"""Bad data at every Keras entry point of a layer model and a node-graph model (`__call__`,
`predict`, `evaluate`, `fit`, `train_on_batch`): refused with an error that names `x`, also
inside `tf.function`, and a refused batch changes no variable (weights, optimiser slots,
iteration counter). Before, Keras cast 0.5 to 0 for an int model and trained on it, and a
NormalLeaf model turned every weight into NaN on a NaN row."""
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import spnlab.core as spnk
from spnlab.graph import GraphModel, poon_domingos_example

NUM_VARS = 6
ENTRY_POINTS = {
    "call": lambda m, x: m(x),
    "predict": lambda m, x: m.predict(x, verbose=0),
    "evaluate": lambda m, x: m.evaluate(x, verbose=0),
    "fit": lambda m, x: m.fit(x, epochs=1, batch_size=4, shuffle=False, verbose=0),
    "train_on_batch": lambda m, x: m.train_on_batch(x),
}
ERRORS = (ValueError, TypeError, tf.errors.InvalidArgumentError)


def _indicator_model(op):
    model = spnk.ratspn(num_vars=NUM_VARS, depth=1, num_repetitions=2, num_input_distributions=2,
                        num_sums=2, seed=0, sum_op=op)
    return model


def _normal_model(op):
    return spnk.ratspn(num_vars=NUM_VARS, depth=1, num_repetitions=2, num_input_distributions=2,
                       num_sums=2, seed=0, sum_op=op,
                       leaf=spnk.layers.NormalLeaf(num_components=2))


def _compiled(model, op_name):
    optimizer = keras.optimizers.Adam(0.1) if op_name == "grad" else \
        spnk.OnlineExpectationMaximization(0.5)
    model.compile(loss=spnk.losses.NegativeLogLikelihood(), optimizer=optimizer)
    return model


def _state(model):
    return [np.array(v) for v in model.variables] + \
        [np.array(v) for v in model.optimizer.variables]


def _assert_refused(model, entry, x, pattern):
    model.train_on_batch(np.asarray(GOOD[model.name_kind], "float32"))    # traced, one step
    before = _state(model)
    with pytest.raises(ERRORS, match=pattern):
        ENTRY_POINTS[entry](model, x)
    for got, want in zip(_state(model), before):
        np.testing.assert_array_equal(got, want)


GOOD = {"indicator": np.random.default_rng(0).integers(0, 2, (8, NUM_VARS)),
        "normal": np.random.default_rng(0).normal(size=(8, NUM_VARS))}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("op_name", ["em", "grad"])
def test_fractional_data_to_an_indicator_model_is_refused(entry, op_name):
    op = spnk.SumOpEMBackprop() if op_name == "em" else spnk.SumOpGradBackprop()
    model = _compiled(_indicator_model(op), op_name)
    model.name_kind = "indicator"
    x = GOOD["indicator"].astype("float32")
    x[3, 2] = 0.5
    _assert_refused(model, entry, x, re.escape("integer values in `x`") + "|" +
                    re.escape("Received NaN, inf or a fraction"))


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_to_a_normal_leaf_model_is_refused(entry, bad):
    model = _compiled(_normal_model(spnk.SumOpEMBackprop()), "em")
    model.name_kind = "normal"
    x = GOOD["normal"].astype("float32")
    x[2, 1] = bad                      # in the first batch of `fit`
    _assert_refused(model, entry, x, re.escape("Expected finite `x` values"))


@pytest.mark.parametrize("entry", ["call", "predict", "train_on_batch"])
def test_complex_data_is_refused_and_bool_reads_as_zero_one(entry):
    model = _compiled(_indicator_model(spnk.SumOpEMBackprop()), "em")
    model.name_kind = "indicator"
    x = GOOD["indicator"]
    _assert_refused(model, entry, x.astype(complex) + 0.5j,
                    re.escape("Expected `x` to hold real numbers (integers or floats). "
                              "Received dtype complex128"))
    if entry != "train_on_batch":
        np.testing.assert_allclose(np.ravel(ENTRY_POINTS[entry](model, x.astype(bool))),
                                   np.ravel(ENTRY_POINTS[entry](model, x)), rtol=1e-6)


def test_bool_data_to_a_normal_leaf_model_is_refused():
    model = _normal_model(spnk.SumOpEMBackprop())
    with pytest.raises(TypeError, match="continuous NormalLeaf. Received dtype bool"):
        model(np.zeros((2, NUM_VARS), bool))


@pytest.mark.parametrize("entry", ["fit", "train_on_batch", "evaluate", "predict"])
def test_a_graph_model_refuses_bad_data_before_its_update(entry):
    """The node graph's data check used to be an Assert that the optimiser update did not
    wait for: the step raised, yet the weights were updated (and became NaN)."""
    model = GraphModel(poon_domingos_example().root, sum_op=spnk.SumOpGradBackprop())
    model.compile(optimizer=keras.optimizers.Adam(0.5),
                  loss=spnk.losses.NegativeLogLikelihood())
    good = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], "float32")
    model.train_on_batch(good)
    before = _state(model)
    for bad in (0.5, np.nan, 2.0):
        x = good.copy()
        x[1, 1] = bad
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected"):
            ENTRY_POINTS[entry](model, x)
        for got, want in zip(_state(model), before):
            np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="real numbers"):
        model(good.astype(complex))


def test_complex_data_is_refused_by_the_queries_and_the_lab():
    from spnlab.lab.data import from_arrays
    model = _indicator_model(spnk.SumOpEMBackprop())
    x = GOOD["indicator"].astype(complex)
    with pytest.raises(TypeError, match="Received dtype complex128"):
        spnk.log_likelihood(model, x)
    with pytest.raises(TypeError, match="complex128"):
        from_arrays(x)
