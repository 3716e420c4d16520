"""Pacing and a busy sign: the kernel never runs ahead of what the browser has drawn.

Play used to send every step's redraws as fast as the kernel made them; the browser drew them
seconds later, so Pause seemed to take 3-13 s (the counter kept moving through the backlog).
`BrowserClock.round_trip()` sends a ping after a step's redraws and waits for the browser's
answer, sent once it has handled everything before the ping and painted a frame: at most one
step's drawing is ever in flight. Without a browser (plain Python, a closed tab, a tab in the
background) the wait ends after `timeout` and pacing stays off until a browser answers again.
"""
import asyncio
import collections
import contextlib
import time

import anywidget
import traitlets

_ESM = """
export default {
  render({ model, el }) {
    const sign = document.createElement("span");
    sign.className = "spnlab-busy";
    el.appendChild(sign);
    const show = () => {
      const busy = model.get("busy");
      sign.textContent = busy ? "\\u23F3 " + busy + "\\u2026" : "";
      sign.classList.toggle("on", !!busy);
    };
    // Answer a ping once everything sent before it is handled and a frame is painted.
    const pong = () => requestAnimationFrame(() => model.send({ pong: model.get("ping") }));
    show();
    pong();                              // a browser is here (also after a reload)
    model.on("change:busy", show);
    model.on("change:ping", pong);
    return () => { model.off("change:busy", show); model.off("change:ping", pong); };
  },
};
"""

# The sign appears only when the work lasts over 200 ms (shorter work would make it flicker).
_CSS = """
.spnlab-busy { color: #8a5a00; font-weight: bold; opacity: 0; }
.spnlab-busy.on { animation: spnlab-busy-show 0s linear 0.2s forwards; }
@keyframes spnlab-busy-show { to { opacity: 1; } }
"""


def _resolve(waiter):
    if not waiter.done():
        waiter.set_result(True)


class BrowserClock(anywidget.AnyWidget):
    """A small widget that paces a running loop to the browser and shows what keeps the
    kernel busy.

    Attributes:
        busy: what the kernel is doing ("" when idle); shown when it lasts over 200 ms.
    """

    _esm = _ESM
    _css = _CSS
    busy = traitlets.Unicode("").tag(sync=True)
    ping = traitlets.Int(0).tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._answered = -1           # the last ping a browser answered
        self._browser = False         # a browser answered since the last time-out
        self._waiter = None
        self.round_trips = collections.deque(maxlen=1000)   # seconds of the answered pings
        self.on_msg(self._on_message)

    def _on_message(self, _, content, buffers):
        if not isinstance(content, dict) or "pong" not in content:
            return
        self._browser = True
        self._answered = max(self._answered, int(content["pong"]))
        waiter = self._waiter
        if waiter is not None and not waiter.done() and self._answered >= self.ping:
            # Through the loop's self-pipe: ipykernel 7 can run this handler while its loop
            # sits in select() without a wake-up, so a plain set_result was seen only at the
            # next timer (a Play started by a button click waited the whole 3 s timeout).
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)

    async def round_trip(self, timeout=3.0):
        """Ping the browser and wait for its answer (at most `timeout` s). Returns whether a
        browser answered; without one it only yields to the event loop once."""
        if not self._browser:
            await asyncio.sleep(0)
            return False
        self.ping += 1
        self._waiter = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        try:
            await asyncio.wait_for(self._waiter, timeout)
            self.round_trips.append(time.perf_counter() - start)
            return True
        except asyncio.TimeoutError:
            self._browser = False          # gone or hidden: run free until it answers again
            return False
        finally:
            self._waiter = None

    @contextlib.contextmanager
    def busy_while(self, what):
        """Show `what` while the block runs (the message leaves at once, before the work)."""
        previous, self.busy = self.busy, what
        try:
            yield
        finally:
            self.busy = previous
