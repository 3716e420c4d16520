"""Observers of a session: views subscribe to events; a failing observer never breaks training.

Events: "step" (a `StepRecord`), "switch" (a `SwitchRecord`), "reset" (a dict saying why) and
"config" (a dict of the changed settings). Every callback gets one argument, the payload.
"""
import contextlib
import logging
import traceback
from dataclasses import dataclass

EVENTS = ("step", "switch", "reset", "config")
_log = logging.getLogger(__name__)


@dataclass
class ObserverError:
    """An exception raised by an observer, caught and kept for the user to see."""

    event: str
    callback: str
    error: BaseException
    traceback: str

    def __str__(self):
        return f"{self.callback} failed on {self.event!r}: {self.error!r}"


class EventBus:
    """Subscriptions per event name; `emit` calls every callback, catching their exceptions.

    Attributes:
        errors: the `ObserverError`s so far (the most recent `max_errors` of them).
    """

    def __init__(self, max_errors=100):
        self._subscribers = {name: [] for name in EVENTS}
        self._muted = 0
        self.errors = []
        self._max_errors = max_errors

    def subscribe(self, event, callback):
        """Call `callback(payload)` on `event`; returns a function that unsubscribes it."""
        if event not in EVENTS:
            raise ValueError(f"Expected `event` in {EVENTS}. Received: event={event!r}")
        if not callable(callback):
            raise TypeError(f"Expected `callback` to be callable. Received: callback={callback!r}")
        self._subscribers[event].append(callback)
        return lambda: self.unsubscribe(event, callback)

    def unsubscribe(self, event, callback):
        """Remove a subscription; unknown ones are ignored (unsubscribing twice is harmless)."""
        if event not in EVENTS:
            raise ValueError(f"Expected `event` in {EVENTS}. Received: event={event!r}")
        subs = self._subscribers[event]
        if callback in subs:
            subs.remove(callback)

    def emit(self, event, payload):
        if self._muted:
            return
        for callback in list(self._subscribers[event]):
            try:
                callback(payload)
            except Exception as error:  # noqa: BLE001 - an observer must not break training
                record = ObserverError(event, getattr(callback, "__qualname__", repr(callback)),
                                       error, traceback.format_exc())
                self.errors.append(record)
                del self.errors[:-self._max_errors]
                _log.warning("spnlab.lab observer error: %s", record)

    @contextlib.contextmanager
    def muted(self):
        """No events inside the block (comparison runs replay steps nobody should see)."""
        self._muted += 1
        try:
            yield
        finally:
            self._muted -= 1
