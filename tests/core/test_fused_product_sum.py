"""A DenseProduct followed by a DenseSum, fused into one pass, equals the two layers run one
after the other: forward values, child signals and accumulator signals, for all five sum ops."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import spnlab.core as spnk
from spnlab.core.optimizers import set_count_normalization
from tests.core.reference import evaluate, small_ratspn

B, S, D, N, O = 6, 2, 3, 3, 4

OPS = {
    "grad": lambda: spnk.SumOpGradBackprop(),
    "grad_linear": lambda: spnk.SumOpGradBackprop(logspace_accumulators=False),
    "em": lambda: spnk.SumOpEMBackprop(),
    "hard": lambda: spnk.SumOpHardEMBackprop(seed=3),
    "hard_sampled": lambda: spnk.SumOpHardEMBackprop(sample_prob=0.5, seed=3),
    "unweighted": lambda: spnk.SumOpUnweightedHardEMBackprop(seed=3),
    "sample": lambda: spnk.SumOpSampleBackprop(seed=3),
}


def case(seed, factors, logspace, dead_row=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, S * factors, D, N))
    if dead_row:                                     # a factor with probability 0 everywhere
        x[0, 0, 0, :] = -np.inf
    x[1, 1, 2, 1] = -np.inf
    acc = rng.uniform(0.05, 1.0, size=(S, D, N ** factors, O))
    if logspace:
        acc = np.log(acc)
    dy = rng.normal(size=(B, S, D, O)) * (rng.uniform(size=(B, S, D, O)) < 0.6)
    return x, acc, dy


def run(fn, x, acc, dy):
    x_t, acc_t = tf.constant(x), tf.constant(acc)
    with tf.GradientTape() as tape:
        tape.watch([x_t, acc_t])
        y = fn(x_t, acc_t)
    dx, dacc = tape.gradient(y, [x_t, acc_t], output_gradients=tf.constant(dy))
    return y.numpy(), dx.numpy(), dacc.numpy()


@pytest.mark.parametrize("factors", [2, 3])
@pytest.mark.parametrize("name", list(OPS))
def test_fused_equals_product_then_sum(name, factors):
    fused_op, plain_op = OPS[name](), OPS[name]()      # same seeds: same random draws
    logspace = fused_op.default_logspace_accumulators()
    # Unweighted hard EM picks a winner in a row that is -inf everywhere at random, and the
    # fused pass draws it per factor: any child is right there, so leave such rows out.
    x, acc, dy = case(factors, factors, logspace, dead_row=not name.startswith("unweighted"))
    product = spnk.layers.DenseProduct(factors, dtype="float64")

    fused = run(lambda x_, a: fused_op.weighted_product_sum(x_, factors, a, logspace), x, acc, dy)
    plain = run(lambda x_, a: plain_op.weighted_sum(product(x_), a, logspace), x, acc, dy)
    for got, want, what in zip(fused, plain, ("value", "child signal", "accumulator signal")):
        assert not np.isnan(got).any(), what
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=what)


def test_fused_unweighted_ties_are_broken_uniformly_over_the_tied_children():
    """Both factors constant: all N**2 children tie, and each must win 1/N**2 of the rows."""
    rows, n = 4000, 3
    x = tf.zeros([rows, 2, 1, n], tf.float64)
    acc = tf.ones([1, 1, n * n, 1], tf.float64)
    op = spnk.SumOpUnweightedHardEMBackprop(seed=0)
    with tf.GradientTape() as tape:
        tape.watch(acc)
        y = op.weighted_product_sum(x, 2, acc, False)
    counts = tape.gradient(y, acc).numpy().reshape(-1)       # winner counts per child
    assert counts.sum() == rows
    p = 1 / n ** 2
    np.testing.assert_allclose(counts / rows, p, atol=4 * np.sqrt(p * (1 - p) / rows))


@pytest.mark.parametrize("sample_prob", [1.0, 0.5])
def test_fused_unweighted_draws_follow_the_product_posterior(sample_prob):
    """Winners are drawn per factor; their tuple must follow softmax(x_a,i + x_b,j) (mixed
    with the argmax child for sample_prob < 1)."""
    rows, n = 6000, 3
    xa, xb = np.array([0.0, -1.0, 0.5]), np.array([-0.3, 0.2, -2.0])
    x = np.broadcast_to(np.stack([xa, xb])[None, :, None, :], (rows, 2, 1, n))
    acc = tf.ones([1, 1, n * n, 1], tf.float64)
    op = spnk.SumOpUnweightedHardEMBackprop(sample_prob=sample_prob, seed=1)
    with tf.GradientTape() as tape:
        tape.watch(acc)
        y = op.weighted_product_sum(tf.constant(x), 2, acc, False)
    freq = tape.gradient(y, acc).numpy().reshape(-1) / rows
    joint = (xa[:, None] + xb[None, :]).reshape(-1)
    p = np.exp(joint) / np.exp(joint).sum()
    p = sample_prob * p + (1 - sample_prob) * (joint == joint.max())
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / rows))


def test_fused_max_product_equals_product_then_max():
    from spnlab.core.sum_ops.hard_em import MaxProductBackprop
    x, acc, dy = case(5, 2, False)
    product = spnk.layers.DenseProduct(2, dtype="float64")
    fused = MaxProductBackprop(seed=1).weighted_product_sum(tf.constant(x), 2, tf.constant(acc),
                                                            False).numpy()
    joint = product(tf.constant(x)).numpy()[..., :, None] + np.log(acc / acc.sum(-2, keepdims=True))
    np.testing.assert_allclose(fused, joint.max(axis=-2), rtol=1e-12)


@pytest.mark.parametrize("name", ["grad", "em", "hard"])
def test_fused_model_trains_exactly_like_the_layer_by_layer_model(name):
    """One training step of a RAT-SPN, fused and unfused, from the same weights."""
    models = []
    for fuse in (True, False):
        model = small_ratspn(6, seed=0, sum_op=OPS[name](), depth=2, reps=2, inputs=3, sums=3)
        model.fuse_products = fuse
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    x = np.random.default_rng(1).integers(0, 2, size=(16, 6)).astype("int32")
    np.testing.assert_allclose(models[0](x).numpy(), models[1](x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(models[0](x).numpy()[:, 0], evaluate(models[0], x)[:], rtol=1e-5)
    for model in models:
        optimizer = (keras.optimizers.SGD(0.1) if name == "grad"
                     else spnk.OnlineExpectationMaximization(0.5))
        model.compile(loss=spnk.losses.NegativeLogLikelihood(), optimizer=optimizer)
        model.train_on_batch(x)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["grad", "em"])
def test_xla_compiled_path_gives_the_same_signals_and_update(name, monkeypatch):
    """Large layers run their products, factor signals, EM update and constraint under XLA;
    force that path on a small case and compare with the plain TensorFlow path."""
    import spnlab.core.ops.xla as xla
    x, acc, dy = case(7, 2, OPS[name]().default_logspace_accumulators())
    logspace = OPS[name]().default_logspace_accumulators()
    results = []
    for threshold in (xla.XLA_MIN_SIZE, 1):
        monkeypatch.setattr(xla, "XLA_MIN_SIZE", threshold)
        op = OPS[name]()
        results.append(run(lambda x_, a: op.weighted_product_sum(x_, 2, a, logspace), x, acc, dy))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)

    rng = np.random.default_rng(8)
    acc = rng.uniform(0.05, 1.0, size=(S, D, N ** 2, O)).astype("float32")
    counts = rng.uniform(0.0, 2.0, size=acc.shape).astype("float32")
    var = keras.Variable(acc)
    set_count_normalization(var, True)
    updates = []
    for threshold in (xla.XLA_MIN_SIZE, 1):
        monkeypatch.setattr(xla, "XLA_MIN_SIZE", threshold)
        var.assign(acc)
        spnk.OnlineExpectationMaximization(0.3).apply([tf.constant(-counts)], [var])
        updates.append(spnk.constraints.GreaterEqualEpsilonNormalized()(var).numpy())
    np.testing.assert_allclose(updates[0], updates[1], rtol=1e-6)
    expected = 0.7 * acc + 0.3 * counts / counts.sum(-2, keepdims=True)
    np.testing.assert_allclose(updates[1], expected / expected.sum(-2, keepdims=True), rtol=1e-5)
