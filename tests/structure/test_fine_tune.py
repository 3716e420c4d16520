"""EM fine-tuning of learned structures through GraphModel: full-batch EM at step 1 never lowers
the training log-likelihood, the best epoch's weights end up in the node graph, and data with
the wrong number of variables is refused."""
import numpy as np
import pytest

from spnlab.graph import GraphModel, log_value
from spnlab.structure import LearnSPN
from spnlab.structure.fine_tune import fine_tune
from spnlab.structure.hclt import HCLT


def _data(rows=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    return np.column_stack([z ^ (rng.random(rows) < p) for p in (0.1, 0.2, 0.3, 0.5, 0.15)]) \
        .astype(int)


@pytest.mark.parametrize("learner", ["learnspn", "hclt"])
def test_full_batch_em_at_step_one_never_lowers_the_training_log_likelihood(learner):
    data = _data()
    root = (LearnSPN(data, min_instances_slice=60).learn() if learner == "learnspn"
            else HCLT(data, num_latent_states=3, init="random", seed=2).learn())
    before = log_value(root, data).mean()
    tuned = fine_tune(root, data, epochs=6, batch_size=len(data), learning_rate=1.0)
    train = [h["train_ll"] for h in tuned.history]
    np.testing.assert_allclose(train[0], before, rtol=1e-5)
    assert all(b >= a - 1e-4 for a, b in zip(train, train[1:])), train
    assert train[-1] > train[0] + (0.01 if learner == "hclt" else 0.0)
    # the graph holds the best epoch's weights (no validation: the best training epoch)
    assert tuned.best_epoch == int(np.argmax(train))
    np.testing.assert_allclose(log_value(root, data).mean(), max(train), rtol=1e-4)


def test_exact_em_epochs_follow_online_em_and_never_lower_the_training_likelihood():
    data, valid = _data(seed=2), _data(rows=100, seed=8)
    root = HCLT(data, num_latent_states=3, init="random", seed=5).learn()
    tuned = fine_tune(root, data, valid, epochs=2, batch_size=50, learning_rate=0.1,
                      final_learning_rate=0.5, full_batch_epochs=4)
    assert len(tuned.history) == 1 + 2 + 4
    exact = [h["train_ll"] for h in tuned.history[2:]]      # from the last online epoch on
    assert all(b >= a - 1e-4 for a, b in zip(exact, exact[1:])), exact
    scores = [h["valid_ll"] for h in tuned.history]
    assert tuned.best_epoch == int(np.argmax(scores))
    with pytest.raises(ValueError, match="full_batch_epochs"):
        fine_tune(root, data, epochs=1, full_batch_epochs=-1)
    with pytest.raises(ValueError, match="sum_op='em'"):
        fine_tune(root, data, epochs=1, sum_op="hard_em", full_batch_epochs=1)


def test_best_validation_epoch_is_kept():
    data, valid = _data(seed=1), _data(rows=100, seed=9)
    root = HCLT(data, num_latent_states=4, init="random").learn()
    tuned = fine_tune(root, data, valid, epochs=4, batch_size=64, learning_rate=0.5)
    scores = [h["valid_ll"] for h in tuned.history]
    assert tuned.best_epoch == int(np.argmax(scores))
    np.testing.assert_allclose(log_value(root, valid).mean(), max(scores), rtol=1e-4)


def test_data_with_the_wrong_number_of_variables_is_a_clear_error():
    data = _data()
    root = LearnSPN(data, min_instances_slice=100).learn()
    with pytest.raises(ValueError, match="train.*5 columns"):
        fine_tune(root, data[:, :4], epochs=1)
    with pytest.raises(ValueError, match="6"):
        GraphModel(root)(np.column_stack([data, data[:, :1]]))
    with pytest.raises(ValueError, match="sum_op"):
        fine_tune(root, data, sum_op="newton")


def test_noise_trains_on_perturbed_copies_and_is_seeded():
    data = _data()
    roots = [HCLT(data, num_latent_states=3, seed=1).learn() for _ in range(3)]
    clean = fine_tune(roots[0], data, epochs=2, batch_size=len(data), learning_rate=1.0)
    noisy = fine_tune(roots[1], data, epochs=2, batch_size=len(data), learning_rate=1.0,
                      noise=0.3, seed=4)
    again = fine_tune(roots[2], data, epochs=2, batch_size=len(data), learning_rate=1.0,
                      noise=0.3, seed=4)
    ll = [log_value(r, data).mean() for r in roots]
    assert ll[1] == pytest.approx(ll[2], abs=1e-6)          # the same noise for the same seed
    assert [h["train_ll"] for h in again.history] == pytest.approx(
        [h["train_ll"] for h in noisy.history], abs=1e-6)
    assert ll[0] > ll[1] + 0.01                              # noise pulls towards uniform
    assert clean.history[0]["train_ll"] == pytest.approx(noisy.history[0]["train_ll"])
    with pytest.raises(ValueError, match="noise"):
        fine_tune(roots[0], data, noise=1.5)
