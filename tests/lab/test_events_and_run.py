"""Observers, failing observers, run / stop / run_async.

Every test gets a fresh session (function-scoped fixture): no test relies on steps taken or
ops switched by another, so they pass alone and in any order."""
import asyncio

import pytest

from tests.lab.helpers import tiny_session


def small_session(**overrides):
    """A fresh tiny session: 5 minibatches of 10 rows, no test evaluation."""
    return tiny_session("em", rows=50, batch_size=10, test_every=0, **overrides)


@pytest.fixture
def session():
    """A fresh tiny session per test, without signal taps: only the reset test reads them (it
    makes its own), and an untapped step traces in about half the time."""
    return small_session(taps={"enabled": False})


def test_observers_see_every_event_and_failing_ones_are_isolated(session):
    seen = []
    unsubscribe = [session.subscribe(e, lambda p, e=e: seen.append((e, p)))
                   for e in ("step", "switch", "config", "reset")]

    def broken(payload):
        raise KeyError("observer bug")

    session.subscribe("step", broken)
    errors_before = len(session.observer_errors)
    record = session.step()
    switch = session.set_sum_op("S1", "hard_em")
    session.update_config(em_learning_rate=0.2)
    session.step()
    assert [e for e, _ in seen] == ["step", "switch", "config", "step"]
    assert seen[0][1] is record and seen[1][1] is switch
    assert seen[2][1] == {"em_learning_rate": 0.2}
    new_errors = session.observer_errors[errors_before:]
    assert len(new_errors) == 2 and all(e.event == "step" for e in new_errors)
    assert isinstance(new_errors[0].error, KeyError) and "observer bug" in new_errors[0].traceback
    assert session.step_count == 2                        # training went on
    session.unsubscribe("step", broken)
    for off in unsubscribe:
        off()
    session.step()
    assert len(seen) == 4 and len(session.observer_errors) == errors_before + 2


def test_reset_event_and_state():
    session = small_session()                        # with taps: reset must clear them
    session.set_sum_op("S1", "hard_em")              # a setting reset must keep ...
    session.step()                                   # ... and state it must clear
    session.step()
    assert session.step_count == 2 and len(session.history) == 2 and len(session.taps) > 0
    seen = []
    off = session.subscribe("reset", seen.append)
    session.reset(seed=5)
    off()
    assert seen == [{"reason": "reset", "changes": {"seed": 5}}]
    assert session.step_count == 0 and len(session.history) == 0 and len(session.taps) == 0
    assert session.config.seed == 5 and session.sum_ops["S1"] == "hard_em"   # settings kept


def test_stop_from_an_observer_ends_a_run_between_steps(session):
    off = session.subscribe("step", lambda r: session.stop() if r.step % 3 == 0 else None)
    start = session.step_count
    records = session.run(10, progress=False)
    off()
    assert len(records) == 3 - start % 3 and records[-1].step % 3 == 0
    assert session.is_running is False
    assert len(session.run(2, progress=True)) == 2          # the flag does not stick


def test_run_async_yields_to_the_event_loop_between_steps(session):
    ticks = []

    async def other_task():
        for _ in range(20):
            ticks.append(session.step_count)
            await asyncio.sleep(0)

    async def main():
        run = asyncio.create_task(session.run_async(5))
        await asyncio.gather(run, other_task())
        return run.result()

    start = session.step_count
    records = asyncio.run(main())
    assert [r.step for r in records] == list(range(start + 1, start + 6))
    assert len(set(ticks)) >= 4                    # the other task ran while steps went on


def test_stop_ends_run_async(session):
    async def main():
        task = asyncio.create_task(session.run_async(1000))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        session.stop()
        return await task

    records = asyncio.run(main())
    assert 1 <= len(records) <= 3


def test_a_step_from_inside_a_query_or_step_is_refused(session):
    def reenter(record):
        session.marginals(session.data.test[0])      # fine: between steps, after the update
    off = session.subscribe("step", reenter)
    errors = len(session.observer_errors)
    session.step()
    off()
    assert len(session.observer_errors) == errors
    with session._busy("test"):
        with pytest.raises(RuntimeError, match="busy"):
            session.step()


def test_a_second_run_while_one_is_in_progress_is_refused(session):
    async def main():
        task = asyncio.ensure_future(session.run_async(1000))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert session.is_running
        with pytest.raises(RuntimeError, match="in progress"):
            session.run(1, progress=False)
        with pytest.raises(RuntimeError, match="in progress"):
            session.compare(["em", "hard_em"], 2)
        assert session.is_running                      # the first run was not disturbed
        session.stop()
        return await task

    records = asyncio.run(main())
    assert 1 <= len(records) < 1000 and not session.is_running
    assert session.step_count == len(records)
