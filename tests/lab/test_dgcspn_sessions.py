"""DGC-SPN sessions: the convolutional structure is a valid, normalised SPN over the image;
the session feeds it images while its rows stay flat (steps, queries, switches, checkpoints)."""
import itertools

import numpy as np
import pytest

from spnlab.graph import from_layer_model, log_value, validate
from spnlab.lab import Session
from tests.lab.test_checkpoint import assert_resumes_exactly

STATES = np.array(list(itertools.product([0, 1], repeat=16)), np.int32)   # all 4x4 images


@pytest.fixture(scope="module")
def session():
    data = np.random.default_rng(0).integers(0, 2, size=(200, 16)).astype(np.int32)
    s = Session(structure="dgcspn", image_shape=(4, 4), data=data, num_sums=3,
                num_input_distributions=2, test_every=0, seed=4)
    s.run(5, progress=False)
    return s


def test_it_is_a_valid_normalised_spn_over_the_image(session):
    log_p = session.log_likelihood(STATES).astype(np.float64)
    assert np.exp(log_p).sum() == pytest.approx(1.0, rel=1e-4)
    graph = from_layer_model(session.model)
    assert validate(graph.root).is_valid
    np.testing.assert_allclose(log_value(graph.root, STATES[:50], variables=graph.variables),
                               log_p[:50], rtol=1e-5, atol=1e-5)


def test_marginals_and_means_of_flat_rows_equal_brute_force(session):
    log_p = session.log_likelihood(STATES).astype(np.float64)
    x = STATES[12345]
    mask = np.zeros(16, bool)
    mask[:8] = True                                          # the top half observed
    keep = np.all(STATES[:, :8] == x[:8], axis=1)
    posterior = np.exp(log_p[keep] - log_p[keep].max())
    posterior /= posterior.sum()
    marginals = session.marginals(x, mask)                   # [16, 2]
    np.testing.assert_allclose(marginals[:, 1], posterior @ STATES[keep], atol=1e-4)
    np.testing.assert_allclose(session.complete(x, mask, "mean"), posterior @ STATES[keep],
                               atol=1e-4)
    for method in ("mpe", "hard_em", "sample"):
        completed = session.complete(x[None], mask[None], method, seed=1)
        assert completed.shape == (1, 16)
        np.testing.assert_array_equal(completed[0, :8], x[:8])
    assert session.sample(3, seed=0).shape == (3, 16)
    # log p(top half) = log sum over the bottom halves, from flat rows and a flat mask
    np.testing.assert_allclose(session.log_likelihood(x, mask),
                               np.log(np.exp(log_p[keep]).sum()), rtol=1e-5)
    np.testing.assert_array_equal(session.evidence_mask("bottom")[0], mask)   # (4, 4) image


def test_a_switch_keeps_the_distribution_and_the_session_resumes(session, tmp_path):
    record = session.set_sum_op("all", "hard_em")
    assert record.ll_after == pytest.approx(record.ll_before, abs=1e-5)
    session.step()
    assert_resumes_exactly(session, tmp_path / "ckpt", steps=3)


def test_the_digits_preset_and_bad_image_shapes():
    s = Session("dgcspn", seed=0, test_every=0)
    first = s.step().train_ll
    s.run(10, progress=False)
    assert s.history.steps[-1].train_ll > first
    data = np.zeros((20, 12), np.int32)
    with pytest.raises(ValueError, match="power-of-two sides.*image_shape=\\(3, 4\\)"):
        Session(structure="dgcspn", image_shape=(3, 4), data=data)
