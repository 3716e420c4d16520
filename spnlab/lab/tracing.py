"""Trace ahead: the next training step built, traced and warmed on a background thread while
the user looks at the views (`Session.trace_ahead`), and the traced graphs then frozen out of
Python's full garbage collections. A mixin of `Session`."""
import atexit
import gc
import threading
import weakref

# Trace-ahead threads still running. TensorFlow aborts the process ("terminate called ...")
# when the interpreter exits while one of its threads traces: wait for them at exit.
_LIVE_TRACERS = weakref.WeakSet()
atexit.register(lambda: [t.join() for t in list(_LIVE_TRACERS)])


class TraceAheadMixin:
    """See `Session` (its `trace_ahead` attribute)."""

    @property
    def trace_ahead(self):
        return self._trace_ahead

    @property
    def is_tracing(self):
        """Whether a trace-ahead thread is building the next training step right now (the
        next step or change waits for it)."""
        return self._tracer is not None and self._tracer[0].is_alive()

    @trace_ahead.setter
    def trace_ahead(self, enabled):
        with self._freeze_lock:
            self._trace_ahead = bool(enabled)
            gc.unfreeze()          # what an earlier interactive session froze may be garbage
        if not enabled:
            self._join_tracer()    # no thread of this session runs on after it is turned off
        self._start_trace_ahead()

    def _freeze_for_collector(self):
        """After a trace-ahead: freeze what is alive (`gc.freeze`), so that Python's full
        collections skip the traced graphs (~10^5-10^6 long-lived objects; walking them costs
        150-330 ms pauses on 2 cores, landing on a later Step or switch). Steps the cache
        forgot since the last freeze are cyclic garbage that a freeze would keep: they are
        collected first, here in the background. Reset and rebuild unfreeze."""
        with self._freeze_lock:
            if not self._trace_ahead:          # switched off meanwhile: nothing stays frozen
                return
            if self._steps.take_dropped():
                gc.unfreeze()
                gc.collect()
            gc.freeze()

    def _start_trace_ahead(self):
        """Build the next training step, trace and warm it on a background thread
        (`trace_ahead`)."""
        if not self._trace_ahead or self._tracer is not None or self._busy_flag \
                or self._comparing:                  # the next change starts it
            return
        with self._busy("trace ahead"):
            if self._compiled is not None:
                return
            compiled = self._compiled_step()
            evaluator = self._evaluator if self._config.test_every else None
            row_shape, dtype = self.data.test.shape[1:], self.data.test.dtype
        failed = []

        def work():
            try:
                compiled.warm()
                if evaluator is not None:
                    evaluator.warm(row_shape, dtype)
            except Exception as error:  # noqa: BLE001 - the step builds it again, raising
                failed.append(error)       # there if the failure was not the empty batch's
            else:
                self._freeze_for_collector()

        self._tracer = (threading.Thread(target=work, name="spnlab-trace", daemon=True),
                        failed)
        self._tracer[0].start()
        _LIVE_TRACERS.add(self._tracer[0])

    def _join_tracer(self):
        if self._tracer is None:
            return
        thread, failed = self._tracer
        thread.join()
        self._tracer = None
        if failed:
            self._compiled = None                # built again (and failing) in the step
