"""Learning on node graphs with `GraphModel`: EM steps by hand, the five sum ops, gradients
against finite differences, live sum-op switches, shared weights and write-back."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import spnlab.core as spnk
from spnlab.core.optimizers import count_normalization
from spnlab.graph import (GraphModel, IndicatorLeaf, Product, Sum, Weights, log_value,
                          naive_bayes_mixture, normal_mixture, poon_domingos_example, sample,
                          to_dot)

OPS = {
    "grad": lambda: spnk.SumOpGradBackprop(),
    "em": lambda: spnk.SumOpEMBackprop(),
    "hard": lambda: spnk.SumOpHardEMBackprop(seed=0),
    "unweighted": lambda: spnk.SumOpUnweightedHardEMBackprop(seed=0),
    "sample": lambda: spnk.SumOpSampleBackprop(seed=0),
}


def _em_model(root, op, lr=1.0, **kwargs):
    model = GraphModel(root, sum_op=op, **kwargs)
    model.compile(optimizer=spnk.OnlineExpectationMaximization(learning_rate=lr),
                  loss=spnk.losses.NegativeLogLikelihood())
    return model


def _mean_ll(model, x):
    return float(np.mean(model(np.asarray(x)).numpy()))


def test_variables_are_weights_per_shape_with_children_on_axis_minus_2():
    ex = poon_domingos_example()
    model = GraphModel(ex.root, sum_op=spnk.SumOpEMBackprop())
    (variable,) = model.trainable_variables        # five 2-child sums: one [5, 2, 1] tensor
    assert tuple(variable.shape) == (5, 2, 1) and count_normalization(variable)
    assert not count_normalization(
        GraphModel(ex.root, sum_op=spnk.SumOpHardEMBackprop()).accumulators[0])
    x = np.array([[0, 0], [0, 1], [1, 1]])
    np.testing.assert_allclose(model(x).numpy()[:, 0], np.log([0.18, 0.51, 0.22]), rtol=1e-6)
    np.testing.assert_allclose(model.weight_values(ex.root.weights), [[0.7, 0.3]], rtol=1e-6)


def test_one_soft_em_step_equals_hand_computed_expected_counts():
    ex = poon_domingos_example()
    x = np.array([[0, 0], [0, 1], [1, 1], [1, 0], [0, 1]])
    # E-step by hand: responsibility of P1 / P2 for each sample, then counts per sum.
    s11, s12, s21, s22, root_w = [0.6, 0.4], [0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.7, 0.3]
    p1 = np.array([root_w[0] * s11[a] * s21[b] for a, b in x])
    p2 = np.array([root_w[1] * s12[a] * s22[b] for a, b in x])
    r1, r2 = p1 / (p1 + p2), p2 / (p1 + p2)
    expected = {
        "S": [r1.sum(), r2.sum()],
        "S11": [r1[x[:, 0] == 0].sum(), r1[x[:, 0] == 1].sum()],
        "S21": [r1[x[:, 1] == 0].sum(), r1[x[:, 1] == 1].sum()],
        "S12": [r2[x[:, 0] == 0].sum(), r2[x[:, 0] == 1].sum()],
        "S22": [r2[x[:, 1] == 0].sum(), r2[x[:, 1] == 1].sum()],
    }
    model = _em_model(ex.root, spnk.SumOpEMBackprop(), lr=1.0)
    model.train_on_batch(x)
    model.write_back()
    sums = {ex.root.name: ex.root}
    for product, _ in ex.root.child_outputs:
        sums.update({child.name: child for child, _ in product.child_outputs})
    for name, counts in expected.items():
        np.testing.assert_allclose(sums[name].weight_values[0], np.array(counts) / sum(counts),
                                   atol=1e-6, err_msg=name)


def test_shared_weights_pool_their_counts_and_stay_shared():
    leaf = IndicatorLeaf(2, 2)
    shared = Weights([0.5, 0.5], name="shared")
    root = Product(Sum((leaf, [0, 1]), weights=(shared, 0)),
                   Sum((leaf, [2, 3]), weights=(shared, 0)))
    x = np.array([[0, 0], [0, 1], [0, 1], [1, 1]])
    model = _em_model(root, spnk.SumOpEMBackprop(), lr=1.0)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == 2
    model.train_on_batch(x)
    model.write_back()
    # one weight set for both sums: value 0 occurs 4 times in the 8 entries
    np.testing.assert_allclose(shared.values, [[4 / 8, 4 / 8]], atol=1e-6)
    x = np.array([[0, 0], [0, 0], [0, 1], [1, 0]])
    model.train_on_batch(x)
    model.write_back()
    np.testing.assert_allclose(shared.values, [[6 / 8, 2 / 8]], atol=1e-6)


@pytest.fixture(scope="module")
def mixture_data():
    truth = naive_bayes_mixture(6, 3, seed=11)
    return sample(truth.root, 400, seed=0)


@pytest.mark.parametrize("op", ["em", "hard"])
def test_em_training_increases_the_training_log_likelihood(op, mixture_data):
    ex = naive_bayes_mixture(6, 3, seed=2)
    model = _em_model(ex.root, OPS[op](), lr=1.0 if op == "em" else 0.5)
    history = [_mean_ll(model, mixture_data)]
    for _ in range(6):
        model.train_on_batch(mixture_data)
        history.append(_mean_ll(model, mixture_data))
    assert history[-1] > history[0] + 0.05, history
    if op == "em":  # a full-batch soft-EM step with lr = 1 never decreases the likelihood
        assert np.all(np.diff(history) > -1e-5), history


@pytest.mark.parametrize("op", ["unweighted", "sample"])
def test_every_em_op_trains_with_fit(op, mixture_data):
    ex = naive_bayes_mixture(6, 3, seed=2)
    model = _em_model(ex.root, OPS[op](), lr=0.3)
    before = _mean_ll(model, mixture_data)
    model.fit(mixture_data, epochs=3, batch_size=100, verbose=0)
    after = _mean_ll(model, mixture_data)
    assert np.isfinite(after) and after > before, (before, after)
    for variable in model.accumulators:       # still a normalised distribution
        np.testing.assert_allclose(np.sum(variable.numpy(), axis=-2), 1.0, rtol=1e-5)


def _loss(model, x):
    return -tf.reduce_mean(model(x)[:, 0])


def test_gradient_equals_finite_differences():
    ex = normal_mixture(2, 3, seed=1)
    model = GraphModel(ex.root, sum_op=spnk.SumOpGradBackprop())
    x = tf.constant(np.random.default_rng(0).normal(size=(16, 2)), tf.float32)
    with tf.GradientTape() as tape:
        loss = _loss(model, x)
    variables = model.trainable_variables
    assert len(variables) == 3                                    # weights, loc, raw_scale
    grads = tape.gradient(loss, variables)
    eps = 1e-2
    for variable, grad in zip(variables, grads):
        base = variable.numpy()
        numeric = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            for sign in (1, -1):
                shifted = base.copy()
                shifted[idx] += sign * eps
                variable.assign(shifted)
                numeric[idx] += sign * float(_loss(model, x)) / (2 * eps)
        variable.assign(base)
        np.testing.assert_allclose(grad.numpy(), numeric, atol=2e-3, err_msg=variable.name)
    # and an SGD step moves every variable by -lr * gradient (weights up to normalisation)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=spnk.losses.NegativeLogLikelihood())
    before = [v.numpy() for v in variables]
    model.train_on_batch(x)
    for variable, old, grad in zip(variables, before, grads):
        new = old - 0.1 * grad.numpy()
        if variable is model.accumulators[0]:  # LogNormalized shifts each column by a constant
            new = new - np.log(np.exp(new).sum(axis=-2, keepdims=True))
        np.testing.assert_allclose(variable.numpy(), new, atol=1e-5, err_msg=variable.name)


def test_gradient_training_of_normal_leaves_and_em_leaves(mixture_data):
    truth = normal_mixture(2, 2, seed=5)
    data = sample(truth.root, 300, seed=1)
    for op, optimizer in ((spnk.SumOpGradBackprop(), keras.optimizers.Adam(0.05)),
                          (spnk.SumOpEMBackprop(), spnk.OnlineExpectationMaximization(0.5))):
        ex = normal_mixture(2, 2, seed=9)
        model = GraphModel(ex.root, sum_op=op)
        model.compile(optimizer=optimizer, loss=spnk.losses.NegativeLogLikelihood())
        before = _mean_ll(model, data)
        model.fit(data, epochs=10, batch_size=300, verbose=0)
        assert _mean_ll(model, data) > before + 0.1, type(op).__name__
        leaf = ex.root.child_outputs[0][0].child_outputs[0][0]
        old_loc = leaf.loc.copy()
        model.write_back()
        assert not np.allclose(leaf.loc, old_loc)
        np.testing.assert_allclose(log_value(ex.root, data), model(data).numpy()[:, 0],
                                   rtol=1e-4, atol=1e-4)
        # leaves train only under an op that fits their parameterisation
        model.set_sum_op(spnk.SumOpGradBackprop() if model.leaf_params.em else
                         spnk.SumOpHardEMBackprop())
        assert [v.path for v in model.trainable_variables] == [v.path for v in model.accumulators]


def test_switching_the_sum_op_keeps_the_distribution(mixture_data):
    ex = naive_bayes_mixture(6, 3, seed=2)
    model = _em_model(ex.root, spnk.SumOpEMBackprop(), lr=0.5)
    model.train_on_batch(mixture_data)       # weights no longer the graph's
    reference = model(mixture_data).numpy()
    for name in ("grad", "hard", "grad", "unweighted", "sample", "em"):
        model.set_sum_op(OPS[name]())
        assert model.logspace_accumulators == (name == "grad")
        np.testing.assert_allclose(model(mixture_data).numpy(), reference, atol=1e-6)
    model.set_sum_op(spnk.SumOpHardEMBackprop(seed=1))
    model.compile(optimizer=spnk.OnlineExpectationMaximization(0.5),
                  loss=spnk.losses.NegativeLogLikelihood())
    model.train_on_batch(mixture_data)       # trains again after the switch
    assert not np.allclose(model(mixture_data).numpy(), reference)


def test_write_back_puts_learned_weights_into_the_graph_and_its_dot():
    ex = poon_domingos_example()
    model = _em_model(ex.root, spnk.SumOpEMBackprop(), lr=1.0)
    model.train_on_batch(np.array([[0, 0], [0, 0], [0, 1], [1, 1]]))
    assert 'label="0.70"' in to_dot(ex.root)
    model.write_back()
    learned = ex.root.weight_values[0]
    assert not np.allclose(learned, [0.7, 0.3])
    assert f'label="{learned[0]:.2f}"' in to_dot(ex.root)
    np.testing.assert_allclose(model.weight_values(ex.root.weights), [learned], atol=1e-6)


def test_graph_model_bad_input_and_arguments():
    ex = poon_domingos_example()
    model = GraphModel(ex.root, sum_op=spnk.SumOpEMBackprop())
    with pytest.raises(ValueError, match=r"x\[0, 1\]=nan"):
        model(np.array([[0, np.nan]]))
    with pytest.raises(ValueError, match=r"x\[0, 0\]=2"):
        model(np.array([[2, 0]]))
    with pytest.raises(ValueError, match=r"x.shape=\(1, 3\)"):
        model(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="logspace_accumulators=True"):
        GraphModel(ex.root, sum_op=spnk.SumOpEMBackprop(), logspace_accumulators=True)
    with pytest.raises(TypeError, match="sum_op='em'"):
        GraphModel(ex.root, sum_op="em")
    with pytest.raises(ValueError, match="one output"):
        GraphModel(naive_bayes_mixture(2, 2).root.child_outputs[0][0].child_outputs[0][0])


def test_fit_on_bad_data_fails_before_any_update():
    ex = poon_domingos_example(latent=True)
    model = _em_model(ex.root, spnk.SumOpEMBackprop(), lr=0.5)
    model.fit(np.array([[0, 1, 0], [1, 1, 1]] * 4), epochs=1, verbose=0)  # latent columns given
    before = [v.numpy() for v in model.trainable_variables]
    for bad in ([[0, 5]] * 4, [[0, np.nan]] * 4):
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected .*x.* values"):
            model.fit(np.array(bad), epochs=1, verbose=0)
    for variable, old in zip(model.trainable_variables, before):
        np.testing.assert_array_equal(variable.numpy(), old)
