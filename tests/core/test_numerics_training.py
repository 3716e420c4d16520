"""Training: online EM update rules, EM monotonicity, live sum-op switches."""
import keras
import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.core import layers as L
from tests.core.reference import evaluate, small_ratspn


def binary_data(n, num_vars, seed):
    """Correlated binary data: two prototypes with 10% bit flips."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, size=(2, num_vars))
    x = protos[rng.integers(0, 2, size=n)]
    flips = rng.random(x.shape) < 0.1
    return np.where(flips, 1 - x, x).astype(np.int32)


def compile_em(model, lr=1.0, accumulate_batches=1):
    model.compile(loss=spnk.losses.NegativeLogLikelihood(), metrics=[spnk.metrics.LogLikelihood()],
                  optimizer=spnk.OnlineExpectationMaximization(lr, accumulate_batches))
    return model


def test_full_batch_soft_em_never_decreases_the_likelihood():
    x = binary_data(300, 6, 0)
    model = compile_em(small_ratspn(6, 0, sum_op=spnk.SumOpEMBackprop(), depth=2, reps=3,
                                    inputs=3, sums=3))
    lls = [spnk.log_likelihood(model, x).mean()]
    for _ in range(30):
        model.fit(x, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
        lls.append(spnk.log_likelihood(model, x).mean())
    assert np.all(np.diff(lls) >= -1e-5), lls
    assert lls[-1] > lls[0] + 0.1


def root_update_case(op, lr):
    """One online-EM step on a model whose root counts are easy to compute by brute force."""
    x = binary_data(40, 4, 1)
    model = compile_em(small_ratspn(4, 2, sum_op=op, depth=2, reps=3, inputs=2, sums=2), lr=lr)
    return x, model, model.layers[-1]


def root_children(model, x):
    """Root children's log-values `[B, D*N]`: the layers below the root, run one by one."""
    h = x
    for layer in model.layers[:-1]:
        h = layer(h)
    return h.numpy().reshape(len(x), -1).astype(np.float64)


def test_soft_em_step_follows_the_formula():
    lr = 0.3
    x, model, root = root_update_case(spnk.SumOpEMBackprop(), lr)
    a = root.get_weights()[0][0, 0, :, 0].astype(np.float64)
    children = root_children(model, x)
    joint = children + np.log(a)
    post = np.exp(joint - np.log(np.exp(joint).sum(1, keepdims=True)))     # [B, D*N]
    counts = post.sum(0)
    expected = (1 - lr) * a + lr * counts / counts.sum()
    model.fit(x, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(root.get_weights()[0][0, 0, :, 0], expected / expected.sum(),
                               rtol=1e-4)


def test_hard_em_step_follows_the_formula():
    lr = 0.5
    x, model, root = root_update_case(spnk.SumOpHardEMBackprop(seed=0), lr)
    a = root.get_weights()[0][0, 0, :, 0].astype(np.float64)
    winners = np.argmax(root_children(model, x) + np.log(a), axis=1)
    counts = np.bincount(winners, minlength=len(a)) / len(x)               # raw counts / B
    expected = (1 - lr) * a + lr * counts
    model.fit(x, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(root.get_weights()[0][0, 0, :, 0], expected / expected.sum(),
                               rtol=1e-4, atol=1e-7)


def test_accumulate_batches_updates_every_kth_step_with_the_pooled_counts():
    x = binary_data(40, 4, 1)
    lr = 0.5
    model = compile_em(small_ratspn(4, 2, sum_op=spnk.SumOpEMBackprop(), depth=2, reps=3,
                                    inputs=2, sums=2), lr=lr, accumulate_batches=2)
    root = model.layers[-1]
    a = root.get_weights()[0][0, 0, :, 0].astype(np.float64)
    children = root_children(model, x)
    joint = children + np.log(a)
    counts = np.exp(joint - np.log(np.exp(joint).sum(1, keepdims=True))).sum(0)   # both batches
    model.fit(x[:20], batch_size=20, epochs=1, verbose=0)
    np.testing.assert_allclose(root.get_weights()[0][0, 0, :, 0], a, rtol=1e-6)   # unchanged
    model.fit(x[20:], batch_size=20, epochs=1, verbose=0)
    expected = (1 - lr) * a + lr * counts / counts.sum()
    np.testing.assert_allclose(root.get_weights()[0][0, 0, :, 0], expected / expected.sum(),
                               rtol=1e-4)


@pytest.mark.parametrize("first,second", [
    (spnk.SumOpEMBackprop(), spnk.SumOpGradBackprop()),
    (spnk.SumOpGradBackprop(), spnk.SumOpHardEMBackprop(seed=0)),
    (spnk.SumOpHardEMBackprop(seed=0), spnk.SumOpUnweightedHardEMBackprop(seed=0)),
], ids=["em->grad", "grad->hard", "hard->unweighted"])
def test_switching_sum_ops_keeps_the_distribution(first, second):
    x = binary_data(30, 5, 2)
    model = small_ratspn(5, 3, sum_op=first, depth=2, reps=2, inputs=2, sums=3)
    before = spnk.log_likelihood(model, x)
    model.set_sum_op(second)
    after = spnk.log_likelihood(model, x)
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert all(l.sum_op == second for l in model.sum_layers)
    expected_space = second.default_logspace_accumulators()
    assert all(l.logspace_accumulators == expected_space for l in model.sum_layers)


def test_after_a_switch_the_next_step_follows_the_new_rule():
    x = binary_data(40, 4, 1)
    model = compile_em(small_ratspn(4, 2, sum_op=spnk.SumOpEMBackprop(), depth=2, reps=3,
                                    inputs=2, sums=2), lr=0.5)
    model.fit(x, batch_size=len(x), epochs=1, verbose=0)
    model.set_sum_op(spnk.SumOpGradBackprop())
    model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                  optimizer=keras.optimizers.SGD(0.1))
    root = model.layers[-1]
    acc = root.get_weights()[0][0, 0, :, 0].astype(np.float64)          # log space now
    children = root_children(model, x)
    log_w = acc - np.log(np.exp(acc).sum())
    joint = children + log_w
    post = np.exp(joint - np.log(np.exp(joint).sum(1, keepdims=True)))
    # d mean(-log p) / d acc_i = -(mean_b post_bi - softmax(acc)_i)
    grad = -(post.mean(0) - np.exp(log_w))
    model.fit(x, batch_size=len(x), epochs=1, verbose=0)
    new = acc - 0.1 * grad
    got = root.get_weights()[0][0, 0, :, 0]
    # the LogNormalized constraint renormalises in log space after the step
    np.testing.assert_allclose(got, new - np.log(np.exp(new).sum()), atol=1e-5)


def test_normal_leaf_em_step_is_the_m_step():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 0.5, 60), rng.normal(3, 1.0, 40)])[:, None].astype("float32")
    leaf = L.NormalLeaf(2, use_accumulators=True, scale_trainable=True,
                        location_initializer=spnk.initializers.Equidistant(-1.0, 1.0, axis=-2))
    model = spnk.SequentialSumProductNetwork([
        keras.Input(shape=(1,)), L.FlatToRegions(1), leaf,
        L.RootSum(return_weighted_child_logits=False, sum_op=spnk.SumOpEMBackprop())])
    compile_em(model, lr=1.0)
    model(x[:1])
    loc0, scale0 = (t.numpy()[0, 0, 0, :, 0].astype(np.float64) for t in leaf.location_and_scale())
    w0 = model.layers[-1].get_weights()[0][0, 0, :, 0].astype(np.float64)
    logp = -0.5 * ((x - loc0) / scale0) ** 2 - np.log(scale0) - 0.5 * np.log(2 * np.pi) + np.log(w0)
    r = np.exp(logp - np.log(np.exp(logp).sum(1, keepdims=True)))            # [N, 2]
    loc = (r * x).sum(0) / r.sum(0)
    var = (r * x ** 2).sum(0) / r.sum(0) - loc ** 2
    model.fit(x, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
    loc1, scale1 = (t.numpy()[0, 0, 0, :, 0] for t in leaf.location_and_scale())
    np.testing.assert_allclose(loc1, loc, rtol=1e-4)
    np.testing.assert_allclose(scale1, np.sqrt(var), rtol=1e-3)
    np.testing.assert_allclose(model.layers[-1].get_weights()[0][0, 0, :, 0], r.mean(0), rtol=1e-4)


def test_gradient_training_improves_likelihood_with_adam():
    x = binary_data(200, 6, 4)
    model = small_ratspn(6, 5, sum_op=spnk.SumOpGradBackprop(), depth=2, reps=2, inputs=2, sums=2)
    model.compile(loss=spnk.losses.NegativeLogLikelihood(), optimizer=keras.optimizers.Adam(0.05))
    before = spnk.log_likelihood(model, x).mean()
    model.fit(x, batch_size=50, epochs=5, verbose=0)
    after = spnk.log_likelihood(model, x).mean()
    assert after > before + 0.2
    states = np.asarray(np.meshgrid(*[[0, 1]] * 6)).reshape(6, -1).T.astype(np.int32)
    np.testing.assert_allclose(spnk.log_likelihood(model, states), evaluate(model, states), atol=1e-5)
