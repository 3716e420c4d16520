"""Comparison runs: same start for every mode, reproducible from one seed, no side effects."""
import numpy as np
import pytest

from spnlab.lab import compare
from spnlab.lab.compare import normalize_modes
from tests.lab.helpers import all_variable_values, assert_same_values, tiny_session

MODES = {"hard": "hard_em", "adam": {"sum_op": "grad", "gradient_learning_rate": 0.05}}


def make():
    return tiny_session("em", rows=60, batch_size=12, test_every=2, em_learning_rate=0.2)


def test_compare_is_reproducible_and_leaves_the_session_as_it_was():
    a, b = make(), make()
    before = (all_variable_values(a), a._stream.state(), len(a.history), a.config, len(a.taps))
    result_a = a.compare(MODES, 4)
    result_b = compare(b, {"hard": "hard_em"}, 4)           # another session, one mode
    assert (all_variable_values(a), a._stream.state(), len(a.history), a.config,
            len(a.taps))[1:] == before[1:]
    assert_same_values(all_variable_values(a), before[0])

    def without_time(rows):
        return [{k: v for k, v in r.items() if k != "wall_time"} for r in rows]

    rows = result_a.to_records()
    assert without_time(result_b.to_records()) == without_time([r for r in rows
                                                                if r["mode"] == "hard"])
    assert len(rows) == 8 and set(rows[0]) == {"mode", "step", "wall_time", "train_ll",
                                                "test_ll", "train_bpd", "test_bpd"}
    assert [r["step"] for r in rows if r["mode"] == "hard"] == [1, 2, 3, 4]
    assert all(r["wall_time"] > 0 for r in rows)
    # every mode starts from the same weights and batch: equal first-step likelihoods
    first = [r["train_ll"] for r in rows if r["step"] == 1]
    np.testing.assert_allclose(first, first[0], rtol=1e-6)
    assert [r["test_ll"] is None for r in rows[:4]] == [True, False, True, False]
    assert result_a.curve("adam", "test_ll")[0] == [2, 4]
    assert set(result_a.final()) == {"hard", "adam"}
    summary = result_a.taps["hard"]["S1"]
    assert summary["steps"] == [1, 2, 3, 4] and len(summary["entropy"]) == 4
    assert all(0 <= d <= 1 for d in summary["dead_fraction"])
    # a plain step afterwards is the step the session would have taken anyway
    after = a.step()
    assert after.step == 1 and after.sum_ops == {"S1": "em", "S2": "em", "S3": "em", "S4": "em"}


def test_mode_specs_are_checked():
    assert normalize_modes(["em", {"op": "hard_em", "sample_prob": 0.5}])[1][0] == \
        "hard_em(sample_prob=0.5)"
    with pytest.raises(ValueError, match="Unknown mode settings"):
        normalize_modes({"x": {"sum_op": "em", "depth": 3}})
    with pytest.raises(ValueError, match="modes"):
        normalize_modes(["nope"])
    with pytest.raises(ValueError, match="distinct"):
        normalize_modes(["em", "em"])
    with pytest.raises(TypeError, match="modes"):
        normalize_modes("em")


def _without_time(rows):
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in rows]


def test_async_comparison_reports_every_step_refuses_others_and_matches_the_sync_one():
    import asyncio

    a, b = make(), make()
    before = all_variable_values(a)
    updates, refused = [], []

    def on_update(partial):
        updates.append(len(partial.rows))
        try:
            a.step()                                  # a Step click between its steps
        except RuntimeError as error:
            refused.append(str(error))

    result = asyncio.run(a.compare_async(MODES, 4, on_update))
    assert updates == list(range(1, 9)) and len(refused) == 8
    assert "comparison is running" in refused[0]
    assert _without_time(result.to_records()) == _without_time(b.compare(MODES, 4).to_records())
    assert_same_values(all_variable_values(a), before)
    a.step()                                          # free again afterwards


def test_stopping_an_async_comparison_keeps_the_rows_so_far_and_restores_the_session():
    import asyncio

    s = make()
    before, steps = all_variable_values(s), s.step_count

    def on_update(partial):
        if len(partial.rows) == 3:
            s.stop()

    result = asyncio.run(s.compare_async(MODES, 4, on_update))
    assert [(r["mode"], r["step"]) for r in result.rows] == [("hard", 1), ("hard", 2),
                                                              ("hard", 3)]
    assert_same_values(all_variable_values(s), before)
    assert s.step_count == steps and not s.is_running


def test_a_stop_asked_for_on_a_modes_last_step_ends_the_comparison_there():
    """The stop arrives while the comparison waits after the first mode's 4th (last) step:
    the second mode must not run (the finished run used to clear the stop flag)."""
    import asyncio

    s = make()

    def on_update(partial):
        if len(partial.rows) == 4:
            s.stop()

    result = asyncio.run(s.compare_async(MODES, 4, on_update))
    assert [(r["mode"], r["step"]) for r in result.rows] == [("hard", n) for n in range(1, 5)]
    assert not s.is_running and not s.stop_requested
