"""What every view shares: a session, event subscriptions, an error line, figure redraws.

A view never trains or infers by itself: it calls the session and redraws when the session
tells it something happened. An exception in a view's callback is shown in the view (a red
line), never raised into the kernel's comm handler, where it would be lost.
"""
import asyncio
import html
import time
import traceback

import ipywidgets as widgets

from spnlab.lab.history import StepRecord
from spnlab.widgets.plot import Plot


class SessionView(widgets.VBox):
    """Base class: `refresh()` redraws from the session; called on the listed events.

    Args:
        session: a `spnlab.lab.Session`.
        children: the view's widgets (the error line is appended).
        events: session events that trigger `refresh`.
    """

    # Seconds between redraws on "step" events while the session is playing (queries and
    # SVG rendering cost more than a teaching-size training step).
    min_step_interval = 0.0

    def __init__(self, session, children, events=("step", "switch", "reset", "config"), **kwargs):
        self.session = session
        self.error = widgets.HTML(layout=widgets.Layout(min_height="0px"))
        self.active = True
        self._dirty = False
        self._last_redraw = 0.0
        super().__init__(children=[*children, self.error], **kwargs)
        self._unsubscribe = [session.subscribe(event, self._on_event) for event in events]

    def _on_event(self, payload):
        # A hidden view (e.g. another tab) only notes that it is stale.
        if not self.active:
            self._dirty = True
            return
        playing = self.session.is_running
        if (isinstance(payload, StepRecord) and playing and
                time.monotonic() - self._last_redraw < self.min_step_interval):
            self._dirty = True
            self._redraw_later()
            return
        self._redraw()

    def _redraw_later(self):
        """Make sure a throttled view catches up after the last step of a run."""
        if getattr(self, "_timer", None) is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:            # no event loop (plain Python): the next event redraws
            return

        def fire():
            self._timer = None
            if self._dirty and self.active:
                self._redraw()

        self._timer = loop.call_later(self.min_step_interval, fire)

    def _redraw(self):
        self._dirty = False
        self._last_redraw = time.monotonic()
        self.guarded(self.refresh)

    def set_active(self, active):
        """Show (True) or hide (False) the view; a view that became stale redraws on showing."""
        self.active = bool(active)
        if self.active and self._dirty:
            self._redraw()

    def refresh(self):
        """Redraw from the session's current state."""

    def guarded(self, fn, *args, **kwargs):
        """Run `fn`; show an exception in the view instead of raising it. Returns fn's value."""
        try:
            result = fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - shown to the user, with its type
            self.show_error(error)
            return None
        self.error.value = ""
        return result

    def show_error(self, error):
        text = f"{type(error).__name__}: {error}"
        detail = html.escape("".join(traceback.format_exception(error))[-2000:])
        self.error.value = (f'<div class="spnlab-error" style="color:#b00020" title="{detail}">'
                            f"{html.escape(text)}</div>")

    def close(self):
        for unsubscribe in getattr(self, "_unsubscribe", ()):
            unsubscribe()
        self._unsubscribe = []
        super().close()


def figure_widget(figure):
    """A `Plot` widget of a figure dict (see `figures.py`)."""
    return Plot(figure)


def redraw(widget, figure):
    """Draw `figure` in a `Plot` widget (one message, no flicker: plotly.js redraws only what
    changed)."""
    widget.update(figure)
