"""Small sessions and independent (NumPy / reference-evaluator) computations for lab tests."""
import numpy as np

from spnlab.lab import Session
from spnlab.lab import trainable
from tests.core.reference import evaluate, small_ratspn


def binary_data(n, num_vars, seed):
    """Correlated binary data: two prototypes with 10% bit flips."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, size=(2, num_vars))
    x = protos[rng.integers(0, 2, size=n)]
    return np.where(rng.random(x.shape) < 0.1, 1 - x, x).astype(np.int32)


def tiny_session(sum_op="em", num_vars=4, rows=40, seed=0, **overrides):
    """A session on a small RAT-SPN (root children: 3 decompositions) with full-batch steps."""
    model = small_ratspn(num_vars, seed + 2, depth=2, reps=3, inputs=2, sums=2)
    x = binary_data(rows, num_vars, seed + 1)
    settings = dict(batch_size=rows, test_every=0, seed=seed, sum_op=sum_op)
    settings.update(overrides)
    return Session(model=model, data=(x, x[:10]), **settings)


def root_children_log_values(model, x):
    """log-values `[B, I]` of the root's children by the reference evaluator: with the root's
    weights set to a one-hot vector, the model's value is that child's value."""
    root = model.sum_layers[-1]
    saved = root.accumulators.numpy()
    num_children = saved.shape[2]
    out = []
    try:
        for i in range(num_children):
            one_hot = np.zeros_like(saved)
            one_hot[0, 0, i, 0] = 1.0
            with np.errstate(divide="ignore"):
                root.accumulators.assign(np.log(one_hot) if root.logspace_accumulators
                                         else one_hot)
                out.append(evaluate(model, x))
    finally:
        root.accumulators.assign(saved)
    return np.stack(out, axis=1)


def normalised(a, axis=-2):
    return a / a.sum(axis=axis, keepdims=True)


def log_normalised_weights(layer):
    acc = layer.accumulators.numpy().astype(np.float64)
    if layer.logspace_accumulators:
        return acc - np.log(np.exp(acc).sum(axis=-2, keepdims=True))
    return np.log(normalised(acc))


def all_variable_values(session):
    """Every value a step may change: model, optimisers, sum-op generators."""
    values = [v.numpy().copy() for v in session.model.variables]
    values += [v.numpy().copy() for v in session._optimizers.all_variables()]
    values += [l.sum_op.generator_state() for l in trainable(session.model).sum_layers
               if l.sum_op.generator is not None]
    return values


def assert_same_values(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def continue_and_collect(session, steps):
    records = session.run(steps, progress=False)
    taps = [{k: t.counts for k, t in r.taps.layers.items() if t.counts is not None}
            for r in records]
    return ([(r.step, r.epoch, r.train_ll, r.test_ll, r.sum_ops) for r in records], taps,
            all_variable_values(session))


def assert_resumes_exactly(session, path, steps=4):
    session.checkpoint(path)
    expected = continue_and_collect(session, steps)
    restored = Session.restore(path)
    got = continue_and_collect(restored, steps)
    assert got[0] == expected[0]
    for a, b in zip(got[1], expected[1]):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    assert_same_values(got[2], expected[2])
    def lls(history):
        return [(r.step, r.train_ll, r.test_ll) for r in history.steps]

    assert lls(restored.history) == lls(session.history)      # the past came back too
    return restored
