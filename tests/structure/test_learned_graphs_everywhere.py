"""A learned structure is an ordinary node graph: marginals, MPE and sampling on it agree with
brute-force enumeration, it renders and validates, and a lab Session trains it under all five
sum ops."""
import itertools

import numpy as np
import pytest

from spnlab.graph import log_value, marginal, mpe, sample, to_dot, validate
from spnlab.lab import Session
from spnlab.structure import LearnSPN
from spnlab.structure.hclt import HCLT

STATES = np.array(list(itertools.product(range(2), repeat=5)))


def _data(rows=500, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    return np.column_stack([z ^ (rng.random(rows) < p) for p in (0.1, 0.2, 0.3, 0.45, 0.15)]) \
        .astype(np.int32)


@pytest.fixture(scope="module")
def learned():
    return LearnSPN(_data(), min_instances_slice=80, leaves="chow_liu").learn()


def test_marginals_sum_the_brute_force_joint(learned):
    joint = np.exp(log_value(learned, STATES))
    mask = np.array([[True, False, True, False, False]])
    for x0, x2 in itertools.product(range(2), repeat=2):
        x = np.array([[x0, 0, x2, 0, 0]])
        expected = joint[(STATES[:, 0] == x0) & (STATES[:, 2] == x2)].sum()
        np.testing.assert_allclose(np.exp(marginal(learned, x, mask)), [expected], rtol=1e-5)


def test_mpe_of_a_chow_liu_tree_is_the_brute_force_argmax():
    # a single Chow-Liu leaf is a deterministic SPN, so max-product is exact
    root = LearnSPN(_data(), min_instances_slice=10_000, leaves="chow_liu").learn()
    joint = log_value(root, STATES)
    result = mpe(root)
    np.testing.assert_array_equal(result.x[0], STATES[np.argmax(joint)])
    np.testing.assert_allclose(result.log_value[0], joint.max(), rtol=1e-5)
    mask = np.array([[True, True, False, False, False]])
    completed = mpe(root, np.array([[1, 0, 0, 0, 0]]), mask).x[0]
    rows = (STATES[:, 0] == 1) & (STATES[:, 1] == 0)
    np.testing.assert_array_equal(completed, STATES[rows][np.argmax(joint[rows])])


def test_samples_follow_the_learned_distribution(learned):
    draws = sample(learned, 20_000, seed=3)
    codes = draws @ (2 ** np.arange(4, -1, -1))
    frequencies = np.bincount(codes, minlength=32) / len(draws)
    exact = np.exp(log_value(learned, STATES))
    assert 0.5 * np.abs(frequencies - exact).sum() < 0.03


def test_learned_graph_renders_with_every_node_named(learned):
    assert validate(learned).is_valid
    dot = to_dot(learned)
    assert learned.name in dot and dot.count("->") > 20


@pytest.mark.parametrize("op", ["em", "grad", "hard_em", "unweighted_hard_em", "sample"])
def test_a_session_trains_a_learned_hclt_under_every_sum_op(op):
    data = _data()
    root = HCLT(data, num_latent_states=3, init="random", seed=1).learn()
    before = log_value(root, data).mean()
    session = Session(model=root, data=(data, data[:100]), batch_size=len(data), test_every=0,
                      seed=0, sum_op=op, em_learning_rate=1.0, gradient_learning_rate=0.05)
    records = [session.step() for _ in range(5)]
    np.testing.assert_allclose(records[0].train_ll, before, rtol=1e-5)
    lls = [r.train_ll for r in records]
    assert np.isfinite(lls).all()
    if op == "em":                                   # full-batch EM at step 1 is monotone
        assert all(b >= a - 1e-4 for a, b in zip(lls, lls[1:])) and lls[-1] > lls[0]
    else:
        assert lls[-1] > lls[0]
