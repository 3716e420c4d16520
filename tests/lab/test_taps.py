"""Signal taps against independent computations on the recorded forward values."""
import numpy as np
import pytest

from tests.lab.helpers import log_normalised_weights, root_children_log_values, tiny_session


def explicit_winner_counts(s, values, log_w, use_weights):
    """Top-down hard-EM pass in NumPy over the tiny RAT-SPN of `tiny_session`.

    Layers: leaf [B,4,3,2] -> S1 (2 sums) -> permute -> P1 (pairs) -> S2 (2 sums) -> P2 (pair)
    -> S3 (1 sum) -> root S4 over the 3 decompositions. Every sum reached by a sample picks the
    child maximising child value + log-weight (without the log-weight when unweighted).
    """
    perm = s.model.layers[3].get_weights()[0]                     # [D, S'] scope permutation
    counts = {k: np.zeros_like(log_w[k]) for k in log_w}
    n = 2                                                          # nodes per region below P1/P2

    def pick(key, child_values, s_, d, j):
        scores = child_values + (log_w[key][s_, d, :, j] if use_weights else 0.0)
        i = int(np.argmax(scores))
        assert np.sum(scores == scores[i]) == 1, "a tie would make the winner random"
        counts[key][s_, d, i, j] += 1
        return i

    for b in range(len(values["leaf"])):
        d = pick("S4", values["S3"][b].reshape(-1), 0, 0, 0)      # root child index = decomp
        i3 = pick("S3", values["P2"][b, 0, d], 0, d, 0)
        for scope2, j2 in ((0, i3 // n), (1, i3 % n)):
            i2 = pick("S2", values["P1"][b, scope2, d], scope2, d, j2)
            for scope1, j1 in ((2 * scope2, i2 // n), (2 * scope2 + 1, i2 % n)):
                v = perm[d, scope1]                                # S1's (unpermuted) scope
                pick("S1", values["leaf"][b, v, d], v, d, j1)
    return counts


def check_statistics_against_values(s, tap_record, bins):
    """Forward and signal statistics of a record against its recorded values."""
    for key, tap in tap_record.layers.items():
        v = tap.values.astype(np.float64)
        finite = v[np.isfinite(v)]
        assert tap.forward["mean"] == pytest.approx(finite.mean(), rel=1e-5)
        assert tap.forward["min"] == pytest.approx(finite.min(), rel=1e-6)
        assert tap.forward["max"] == pytest.approx(finite.max(), rel=1e-6, abs=1e-7)
        assert tap.forward["neg_inf_fraction"] == pytest.approx(1 - finite.size / v.size)
        lo, hi = tap.forward["hist_range"]
        np.testing.assert_array_equal(tap.forward["hist"],
                                      np.histogram(np.clip(finite, lo, hi), bins, (lo, hi))[0])
    assert tap_record.layers["leaf"].forward["neg_inf_fraction"] == pytest.approx(0.5)
    root = tap_record.layers["S4"]
    batch = len(s.data.train)
    assert root.signal_in["nonzero_fraction"] == pytest.approx(1 / 3)   # one winning decomp
    assert root.signal_out["sum"] == pytest.approx(-1.0)       # mean NLL: -1/B per sample
    assert root.signal_out["min"] == pytest.approx(-1 / batch)
    assert root.signal_out["max"] == pytest.approx(-1 / batch)
    # what the root passes down is what the layer below it receives
    below = tap_record.layers["S3"].signal_out
    assert root.signal_in["sum"] == below["sum"]
    np.testing.assert_array_equal(root.signal_in["node_sum"], below["node_sum"])


@pytest.mark.parametrize("op,use_weights", [("hard_em", True), ("unweighted_hard_em", False)])
def test_winner_counts_equal_an_explicit_argmax_over_recorded_values(op, use_weights):
    s = tiny_session(op, em_learning_rate=0.5, taps={"products": True, "values": True,
                                                     "dead_window": 2, "bins": 7})
    s.step()                                                       # move off the initial weights
    for _ in range(2):
        log_w = {k: log_normalised_weights(l) for k, l in zip(["S1", "S2", "S3", "S4"],
                                                                 s.model.sum_layers)}
        record = s.step().taps
        values = {k: tap.values for k, tap in record.layers.items()}
        assert sorted(values) == ["P1", "P2", "S1", "S2", "S3", "S4", "leaf"]
        assert len(s.taps) < 2 or s.taps.records()[-2].layers["S1"].values is None   # bounded
        expected = explicit_winner_counts(s, values, log_w, use_weights)
        for key in ("S1", "S2", "S3", "S4"):
            np.testing.assert_array_equal(record.layers[key].counts, expected[key])
            # the weight signal of a hard op is the winner count / -B
            np.testing.assert_allclose(record.layers[key].weight_signal,
                                       -expected[key] / len(s.data.train), rtol=1e-6, atol=1e-7)
        check_statistics_against_values(s, record, bins=7)
    # entropy and dead children from the counts, computed here independently
    previous, current = s.taps.records()[-2:]
    for key in ("S1", "S2", "S3", "S4"):
        c = current.layers[key].counts
        per_sum = []
        for s_, d, j in np.ndindex(c.shape[0], c.shape[1], c.shape[3]):
            col = c[s_, d, :, j]
            if col.sum() > 0:
                p = col[col > 0] / col.sum()
                per_sum.append(-(p * np.log(p)).sum())
        assert current.layers[key].entropy == pytest.approx(np.mean(per_sum))
        assert current.layers[key].entropy_norm == pytest.approx(
            np.mean(per_sum) / np.log(c.shape[2]))
        window = c + previous.layers[key].counts
        reached = np.repeat(window.sum(axis=2, keepdims=True) > 0, c.shape[2], axis=2)
        dead = np.sum((window == 0) & reached) / np.sum(reached)
        assert current.layers[key].dead_fraction == pytest.approx(dead)


def test_soft_em_and_gradient_ops_report_the_same_expected_counts():
    em, grad = tiny_session("em"), tiny_session("grad")
    x = em.data.train
    root = em.model.sum_layers[-1]
    joint = root_children_log_values(em.model, x) + log_normalised_weights(root)[0, 0, :, 0]
    posteriors = np.exp(joint - np.log(np.exp(joint).sum(axis=1, keepdims=True)))
    em_taps, grad_taps = em.step().taps.layers, grad.step().taps.layers
    np.testing.assert_allclose(em_taps["S4"].counts[0, 0, :, 0], posteriors.sum(0), rtol=1e-5)
    for key in ("S1", "S2", "S3", "S4"):
        # the gradient op's counts are recovered from the exact gradient (taps.selection_counts)
        np.testing.assert_allclose(grad_taps[key].counts, em_taps[key].counts, rtol=1e-4,
                                   atol=1e-4)
        assert grad_taps[key].entropy == pytest.approx(em_taps[key].entropy, rel=1e-4)
    # every sample's counts sum to one at every scope of the input layer
    np.testing.assert_allclose(em_taps["S1"].counts.sum(axis=(1, 2, 3)), len(x), rtol=1e-5)


def test_taps_off_record_nothing_and_the_buffer_is_bounded():
    s = tiny_session("hard_em", taps={"capacity": 3})
    s.run(5, progress=False)
    assert len(s.taps) == 3 and [r.step for r in s.taps] == [3, 4, 5]
    # full records of the last 3 steps; the scalar history covers the whole run
    assert s.taps.series("S4", "entropy")[0] == [1, 2, 3, 4, 5]
    assert s.taps.series("S2", "forward.mean")[1][0] < 0
    assert s.taps.records()[0].layers["S4"].counts is None
    latest = s.taps.latest().layers["S2"]
    np.testing.assert_array_equal(latest.child_counts, latest.counts.sum(axis=-1))
    with pytest.raises(ValueError, match="forward.bogus"):
        s.taps.series("S2", "forward.bogus")
    s.set_taps(enabled=False)
    record = s.step()
    assert record.taps is None and len(s.taps) == 3 and s._compiled.points == []
    assert "taps" not in s._compiled(s.data.train[:4])
    assert s.node_signal("S1", "counts").shape == (4, 3, 2, 2)       # from the last taps
    assert s.node_signal("S2", "forward").shape == (2, 3, 2)
    np.testing.assert_allclose(s.node_signal("S2", "weights").sum(axis=2), 1.0, rtol=1e-5)


def test_signal_history_covers_the_whole_run_thinned_and_bounded_and_rolls_back_exactly():
    """Beyond `capacity` steps the buffer keeps the scalars of older steps (every second one
    dropped whenever more than 2 * history are kept); `restore(records())` is exact."""
    from spnlab.lab.tap_records import LayerTap, TapBuffer, TapRecord

    def record(step):
        big = np.full((2, 1, 3, 4), float(step))
        return TapRecord(step, {"S1": LayerTap(kind="sum", op="em", forward={
            "mean": -float(step), "hist": np.ones(8)}, counts=big, weight_signal=big,
            entropy=step / 100.0)})

    buffer = TapBuffer(capacity=5, dead_window=3, history=4)
    for step in range(1, 31):
        buffer.append(record(step))
    steps, values = buffer.series("S1", "entropy")
    assert steps[0] == 1 and steps[-5:] == [26, 27, 28, 29, 30]
    assert len(steps) <= 2 * 4 + 5 and steps == sorted(steps)
    assert values == [s / 100.0 for s in steps]
    assert buffer.series("S1", "forward.mean")[1] == [-float(s) for s in steps]
    older = buffer.records()[:-5]
    assert all(r.layers["S1"].counts is None and "hist" not in r.layers["S1"].forward
               for r in older)                                    # only scalars kept
    assert len(buffer) == 5 and buffer.latest().step == 30
    saved = buffer.records()
    buffer.append(record(31))
    buffer.restore(saved)
    assert buffer.series("S1", "entropy") == (steps, values) and buffer.latest().step == 30
