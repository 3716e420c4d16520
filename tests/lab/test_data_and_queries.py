"""Data sets, batching, masks and the queries views ask for."""
import numpy as np
import pytest

from spnlab.lab import BatchStream, Session, digits, evidence_from_dict, evidence_mask
from tests.core.reference import all_states, logsumexp
from tests.lab.helpers import tiny_session


def test_digits_are_binary_pixels_split_by_seed():
    data = digits(seed=0)
    assert data.train.shape == (1438, 64) and data.test.shape == (359, 64)
    assert data.train.dtype == np.int32 and set(np.unique(data.train)) == {0, 1}
    assert data.image_shape == (8, 8)
    np.testing.assert_array_equal(digits(seed=0).test, data.test)
    assert not np.array_equal(digits(seed=1).test, data.test)


def test_batch_stream_is_seeded_covers_every_row_and_resumes_from_its_state():
    a, b = BatchStream(10, seed=3), BatchStream(10, seed=3)
    rows = []
    for _ in range(4):                               # batches of 4: 4, 4, 2, then a new epoch
        idx, state = a.next_batch(4)
        a.commit(state)
        rows.append(idx)
    assert [len(r) for r in rows] == [4, 4, 2, 4] and a.epoch == 2
    assert sorted(np.concatenate(rows[:3])) == list(range(10))
    idx, _ = a.next_batch(4)
    idx_again, _ = a.next_batch(4)                   # not committed: the stream did not move
    np.testing.assert_array_equal(idx, idx_again)
    b.set_state(a.state())
    np.testing.assert_array_equal(b.next_batch(3)[0], a.next_batch(3)[0])
    with pytest.raises(ValueError, match="num_rows"):
        BatchStream(0, seed=1)


def test_masks():
    top = evidence_mask("top", 2, 64, (8, 8))
    assert top.shape == (2, 64) and not top[0, :32].any() and top[0, 32:].all()
    left = evidence_mask("left", 1, 64, (8, 8)).reshape(8, 8)
    assert not left[:, :4].any() and left[:, 4:].all()
    rnd = evidence_mask("random", 100, 64, hidden_fraction=0.25, seed=1)
    assert 0.7 < rnd.mean() < 0.8
    x, mask = evidence_from_dict({3: 1, 10: 0}, 64)
    assert mask.sum() == 2 and x[0, 3] == 1
    with pytest.raises(ValueError, match="kind='diagonal'"):
        evidence_mask("diagonal", 1, 64)
    with pytest.raises(ValueError, match="image_shape"):
        evidence_mask("top", 1, 10)
    with pytest.raises(TypeError, match="Expected `hidden_fraction` to be a number. "
                                        "Received: hidden_fraction='x'"):
        evidence_mask("random", 2, 3, hidden_fraction="x")
    with pytest.raises(ValueError, match="Received: hidden_fraction=nan"):
        evidence_mask("random", 2, 3, hidden_fraction=float("nan"))
    # an integer variable's value is an integer: 0.7 used to be stored as 0
    for bad in (0.7, float("nan"), True, "1"):
        with pytest.raises(ValueError, match=r"variable 0 to be an integer. Received: "
                                             r"evidence\[0\]="):
            evidence_from_dict({0: bad}, 3)
    x, _ = evidence_from_dict({0: 0.7}, 3, dtype=np.float32)       # float data keeps it
    assert x[0, 0] == np.float32(0.7)


@pytest.fixture(scope="module")
def trained():
    s = tiny_session("em", em_learning_rate=0.5, test_every=0)
    s.run(3, progress=False)
    return s


def test_marginals_agree_with_brute_force(trained):
    states = all_states(4)
    log_p = trained.log_likelihood(states)                       # [16]
    assert logsumexp(log_p) == pytest.approx(0.0, abs=1e-5)        # a normalised distribution
    x = np.array([1, 0, 0, 0], np.int32)
    observed = np.array([True, False, False, False])
    marg = trained.marginals(x, observed)                          # [V, C]
    consistent = states[:, 0] == 1
    for v in range(1, 4):
        p1 = np.exp(logsumexp(log_p[consistent & (states[:, v] == 1)]) -
                    logsumexp(log_p[consistent]))
        assert marg[v, 1] == pytest.approx(p1, abs=1e-5)
    np.testing.assert_allclose(marg[0], [0.0, 1.0], atol=1e-6)
    assert trained.marginals(np.zeros((3, 4), np.int32)).shape == (3, 4, 2)


def test_completions_keep_the_evidence(trained):
    states = all_states(4)
    log_p = trained.log_likelihood(states)
    x = np.array([[0, 1, 0, 0], [1, 1, 1, 1]], np.int32)
    mask = np.array([[True, False, False, False], [False, False, True, True]])
    for method in ("mpe", "hard_em", "mean", "sample"):
        out = trained.complete(x, mask, method=method, seed=0)
        assert out.shape == x.shape
        np.testing.assert_array_equal(out[mask], x[mask])
    mpe = trained.complete(x, mask, method="mpe")
    assert set(np.unique(mpe)) <= {0, 1}
    assert trained.sample(5, seed=1).shape == (5, 4)
    one_row = trained.complete(x[0], mask[0], method="mean")
    assert one_row.shape == (4,)
    assert np.ndim(trained.log_likelihood(x[0])) == 0
    assert trained.evaluate("train") < 0 and trained.evaluate("test") < 0
    assert log_p.max() <= 0


def test_graph_view_uses_the_node_graph_or_says_it_is_missing(trained):
    try:
        from spnlab.graph import from_layer_model  # noqa: F401 - present or not
    except ImportError:
        with pytest.raises(RuntimeError, match="from_layer_model"):
            trained.graph("counts")
    else:
        snapshot = trained.graph("weights")
        assert snapshot.signal == "weights" and set(snapshot.layer_values) == {"S1", "S2", "S3",
                                                                               "S4"}
        assert snapshot.graph is not None and snapshot.layer_names["S1"] == \
            trained.model.sum_layers[0].name
    with pytest.raises(ValueError, match="signal='colour'"):
        trained.graph("colour")


def test_digits_session_masks_and_layers():
    s = Session("classroom")
    assert s.evidence_mask("bottom", 3).shape == (3, 64)
    assert [l["key"] for l in s.layers if l["kind"] == "sum"] == ["S1", "S2", "S3", "S4"]
    assert sum(l["num_weights"] for l in s.layers) == sum(
        int(np.prod(v.shape)) for v in s.model.trainable_variables)
    assert s.layers[1]["op"] == "em" and s.layers[1]["weights_shape"] == (64, 2, 2, 2)


def test_rebuild_applies_structural_settings():
    s = Session("classroom")
    seen = []
    s.subscribe("reset", seen.append)
    s.rebuild(num_sums=3, seed=4)
    assert s.config.num_sums == 3 and s.config.seed == 4 and s.step_count == 0
    assert s.layers[4]["weights_shape"][-1] == 3           # S2: [S, D, I, 3]
    assert seen == [{"reason": "rebuild", "changes": {"num_sums": 3, "seed": 4}}]
    with pytest.raises(ValueError, match="dataset"):
        s.rebuild(dataset="custom")
    with pytest.raises(ValueError, match="do not apply"):
        tiny_session("em").rebuild(depth=3)
