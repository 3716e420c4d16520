"""Running many steps: `run` with a progress bar, `run_async` for an event loop, `stop`.

A mixin of `Session`. `stop()` sets a flag that the loop reads between steps, so a run always
ends on a complete step; the flag is cleared when a run starts and when it ends. `iter_steps`
is the loop itself, for a driver that does something between the steps (a comparison), and
`comparison_hold` keeps the session to such a driver while it hands control to an event loop.
"""
import asyncio
import contextlib

import numpy as np


def _check_steps(num_steps):
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) \
            or num_steps < 1:
        raise ValueError("Expected `num_steps` to be a positive int. "
                         f"Received: num_steps={num_steps!r}")


class RunMixin:
    """`run`, `run_async`, `iter_steps`, `stop` and `is_running` on top of `step()`."""

    @property
    def is_running(self):
        return self._running

    @property
    def stop_requested(self):
        """Whether `stop()` was called during the current run."""
        return self._stop_requested

    def stop(self):
        """Ask a running `run` / `run_async` to stop before its next step."""
        self._stop_requested = True

    @contextlib.contextmanager
    def comparison_hold(self):
        """Inside the block every other change and query of the session is refused ("a
        comparison is running") and no trace-ahead starts: `compare_async` holds it while the
        event loop runs between two of its steps (which would otherwise act on the state of
        the mode being run)."""
        self._comparing = True
        try:
            yield
        finally:
            self._comparing = False

    @contextlib.contextmanager
    def _run_loop(self, num_steps, progress):
        """Set up a run; yields a `tick(record)` callback for the progress bar."""
        _check_steps(num_steps)
        if self._running:
            # A second run (e.g. a comparison started during Play) would take over the first
            # one's stop flag and running state.
            raise RuntimeError("A run is in progress; stop() it and let it end first.")
        self._stop_requested = False
        self._running = True
        bar = None
        if progress:
            from tqdm.auto import tqdm  # lazily: only when a bar is wanted
            bar = tqdm(total=int(num_steps), desc="spnlab", leave=False)

        def tick(record):
            if bar is not None:
                bar.update(1)
                bar.set_postfix(train_ll=f"{record.train_ll:.3f}", refresh=False)

        try:
            yield tick
        finally:
            self._running = False
            self._stop_requested = False
            if bar is not None:
                bar.close()

    def iter_steps(self, num_steps, progress=False):
        """The records of up to `num_steps` steps, one at a time, until `stop()`: a run that
        the caller drives (it counts as running until the generator ends; close it, e.g. with
        `contextlib.closing`, so that the run ends at once also when the caller stops early or
        is cancelled). Fewer than `num_steps` records: it was stopped."""
        with self._run_loop(num_steps, progress) as tick:
            for _ in range(int(num_steps)):
                if self._stop_requested:
                    break
                record = self.step()
                tick(record)
                yield record

    def run(self, num_steps, progress=True):
        """Up to `num_steps` steps with a progress bar (tqdm.auto); `stop()` ends it between
        steps. Returns the step records."""
        with contextlib.closing(self.iter_steps(num_steps, progress)) as steps:
            return list(steps)

    async def run_async(self, num_steps, progress=False, pace=None):
        """`run` for an asyncio task (e.g. a notebook's Play button): yields to the event loop
        after every step, so the notebook stays responsive; `stop()` ends it between steps.

        Args:
            pace: an optional `async pace(record)` awaited after each step instead of a bare
                yield (a view waits there until the browser has drawn the step, so a Pause
                click is never queued behind a backlog of drawings).
        """
        if pace is not None and not callable(pace):
            raise TypeError(f"Expected `pace` to be an async callable. Received: pace={pace!r}")
        records = []
        with contextlib.closing(self.iter_steps(num_steps, progress)) as steps:
            for record in steps:
                records.append(record)
                if pace is None:
                    await asyncio.sleep(0)
                else:
                    await pace(record)
        return records
