"""One bound for stopping a process, shared by every part that stops.

``WEBOS_SHUTDOWN_TIMEOUT`` bounds the whole stop, from the signal (or ``Kernel.stop``) to the
last connection closed, not each part in turn. The clock starts once; every part then waits only
for what is left of it:

* work in progress (HTTP requests, service calls, durable handlers, tasks) until the bound less
  the *closing reserve* (:func:`closing_reserve`): :meth:`StopClock.time_left`, which parts read
  through ``Host.time_left()``;
* closing (the modules' shutdown hooks, handing unstarted messages back, the node's goodbye,
  the connection) within the rest: :meth:`StopClock.closing_left`.

What a part ends unfinished is noted with :meth:`StopClock.cut`; :meth:`StopClock.report` logs
once how long stopping took against the bound, and what was cut off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

#: The largest share of the bound kept for closing, and its cap in seconds.
CLOSING_SHARE = 0.25
CLOSING_CAP = 1.0


def closing_reserve(bound: float) -> float:
    """Seconds of ``bound`` kept for closing after work in progress was waited for."""
    return min(bound * CLOSING_SHARE, CLOSING_CAP)


class StopClock:
    """The shutdown bound of one kernel (a fresh clock per start: nothing leaks between kernels)."""

    def __init__(self, bound: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.bound = bound
        self.reserve = closing_reserve(bound)
        self._clock = clock
        self._began: float | None = None
        #: What stopping ended unfinished, in the order it was noted.
        self.cut_off: list[str] = []
        self._reported = False

    @property
    def began(self) -> bool:
        return self._began is not None

    def begin(self) -> None:
        """Start the clock; later calls keep the first start."""
        if self._began is None:
            self._began = self._clock()

    def elapsed(self) -> float:
        return 0.0 if self._began is None else self._clock() - self._began

    def time_left(self) -> float:
        """Seconds work in progress may still be waited for (all of it before the stop began)."""
        return max(0.0, self.bound - self.reserve - self.elapsed())

    def closing_left(self) -> float:
        """Seconds until the bound itself."""
        return max(0.0, self.bound - self.elapsed())

    def cut(self, what: str) -> None:
        self.cut_off.append(what)

    def report(self, log: logging.Logger) -> None:
        """Log how long stopping took against the bound, and what was cut off. Once."""
        if self._reported:
            return
        self._reported = True
        elapsed = self.elapsed()
        verdict = "within" if elapsed <= self.bound else "over"
        log.info(
            "stopped in %.2fs, %s its bound of %gs (WEBOS_SHUTDOWN_TIMEOUT)",
            elapsed,
            verdict,
            self.bound,
        )
        if self.cut_off:
            log.warning(
                "stopping reached its bound and cut off %d piece(s) of work: %s",
                len(self.cut_off),
                "; ".join(self.cut_off),
            )
