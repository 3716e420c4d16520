"""The plot widget's state and clicks, and the browser clock's pacing, without a browser (the
browser side is measured in tests/browser)."""
import asyncio
import json
import math

import numpy as np
import pytest

from spnlab.lab import Session
from spnlab.widgets.clock import BrowserClock
from spnlab.widgets.plot import Plot, json_safe


def test_json_safe_turns_non_finite_numbers_into_gaps_and_arrays_into_lists():
    figure = {"data": [{"z": np.array([[1.0, np.nan], [np.inf, -np.inf]]), "y": (np.float32(2.5),
                                                                                 float("nan"))}],
              "layout": {"height": np.int64(300)}}
    safe = json_safe(figure)
    assert safe == {"data": [{"z": [[1.0, None], [None, None]], "y": [2.5, None]}],
                    "layout": {"height": 300}}
    # standard JSON: Python's encoder would otherwise write NaN, which browsers refuse
    text = json.dumps(safe, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


def test_plot_holds_the_whole_figure_as_its_state_and_redraws_replace_it():
    plot = Plot({"data": [{"type": "scatter", "x": [1, 2], "y": [3.0, math.nan]}],
                 "layout": {"title": {"text": "a"}}})
    assert plot.data[0]["y"] == [3.0, None] and plot.layout["title"]["text"] == "a"
    plot.update({"data": [{"type": "bar", "x": ["X0"], "y": [0.25]}], "layout": {}})
    state = plot.get_state()["figure"]       # what a reloaded browser gets: the latest figure
    assert state == {"data": [{"type": "bar", "x": ["X0"], "y": [0.25]}], "layout": {}}
    plot.close()


def test_plot_clicks_from_the_browser_reach_every_handler_until_removed():
    plot = Plot({"data": [], "layout": {}})
    got = []
    handler = got.append
    plot.on_click(handler)
    points = [{"curve": 0, "index": [1, 2], "x": 2, "y": 1}]
    plot._on_message(plot, {"event": "click", "points": points}, [])
    plot._on_message(plot, {"event": "hover", "points": points}, [])      # not a click
    assert got == [points]
    plot.on_click(handler, remove=True)
    plot._on_message(plot, {"event": "click", "points": points}, [])
    assert got == [points]
    plot.close()


def test_clock_without_a_browser_only_yields():
    clock = BrowserClock()

    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time()
        answered = await clock.round_trip(timeout=5)
        return answered, loop.time() - start

    answered, waited = asyncio.run(main())
    assert answered is False and waited < 0.5 and clock.ping == 0
    clock.close()


def test_an_answer_handled_outside_the_loops_callbacks_still_wakes_the_wait():
    """ipykernel 7 can run a comm handler while its asyncio loop sits in select() with no
    wake-up (a Play started by a button click): the answer must wake the loop itself, not
    wait for the next timer (it waited the whole 5 s time-out here before the fix)."""
    import threading
    clock = BrowserClock()
    clock._on_message(clock, {"pong": 0}, [])

    async def main():
        loop = asyncio.get_running_loop()
        threading.Timer(0.1, lambda: clock._on_message(clock, {"pong": 1}, [])).start()
        start = loop.time()
        answered = await clock.round_trip(timeout=5)
        return answered, loop.time() - start

    answered, waited = asyncio.run(main())
    assert answered is True and waited < 1.0, waited
    clock.close()


def test_clock_waits_for_the_browsers_answer_to_its_ping_and_stops_pacing_after_a_time_out():
    clock = BrowserClock()
    clock._on_message(clock, {"pong": 0}, [])          # a view rendered: a browser is there

    async def main():
        loop = asyncio.get_running_loop()
        # the browser answers the ping 0.2 s later
        loop.call_later(0.2, lambda: clock._on_message(clock, {"pong": clock.ping}, []))
        start = loop.time()
        first = await clock.round_trip(timeout=5)
        waited = loop.time() - start
        # an answer to an older ping does not end the wait: the browser is gone, time-out
        loop.call_later(0.05, lambda: clock._on_message(clock, {"pong": clock.ping - 1}, []))
        second = await clock.round_trip(timeout=0.3)
        third_start = loop.time()
        third = await clock.round_trip(timeout=5)     # no browser now: no wait
        return first, waited, second, third, loop.time() - third_start

    first, waited, second, third, third_wait = asyncio.run(main())
    assert first is True and 0.15 < waited < 1.0
    assert second is False and third is False and third_wait < 0.2
    assert clock.ping == 2 and len(clock.round_trips) == 1
    clock.close()


def test_busy_while_shows_the_work_and_puts_the_previous_state_back_also_on_error():
    clock = BrowserClock()
    with clock.busy_while("training step"):
        assert clock.busy == "training step"
    assert clock.busy == ""
    with pytest.raises(RuntimeError):
        with clock.busy_while("building the model"):
            raise RuntimeError("boom")
    assert clock.busy == ""
    clock.close()


def test_run_async_awaits_pace_after_every_step_and_stop_there_ends_the_run():
    session = Session("classroom", seed=0, test_every=0)
    seen = []

    async def pace(record):
        seen.append((record.step, session.step_count))
        if len(seen) == 3:
            session.stop()                     # a Pause click handled while pacing
        await asyncio.sleep(0)

    records = asyncio.run(session.run_async(100, pace=pace))
    assert [r.step for r in records] == [1, 2, 3]
    assert seen == [(1, 1), (2, 2), (3, 3)] and session.step_count == 3
    with pytest.raises(TypeError, match="pace"):
        asyncio.run(session.run_async(1, pace=3))
    assert session.step_count == 3
