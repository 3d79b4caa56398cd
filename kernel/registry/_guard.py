"""What a caller process keeps per target service: its circuit breaker, its bulkhead, its counts.

Every remote call of a service passes one ``ServiceGuard``. The bookkeeping is O(1) per call:
the breaker keeps a ring of the last ``window`` outcomes with a running failure count, the
bulkhead is one ``asyncio.Semaphore``, latencies go into a ring of the last ``LATENCY_SAMPLES``.

Only transport failures (no instance, timeout, connection lost, a call cut off by a stopping
process) count against the breaker. A remote exception means an instance is up and answered:
opening the circuit on "insufficient funds" would cut every caller off a healthy service. Calls
the guard itself refused (circuit open, too many in flight) are not counted either.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from kernel.registry._policy import BreakerPolicy
from kernel.telemetry._metrics import attributes, instruments

log = logging.getLogger("webos.registry")
LATENCY_SAMPLES = 512
CIRCUIT_PREFIX = "webos.circuit"


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


#: The event of each state change (``webos.circuit.opened`` ...).
_EVENT = {
    CircuitState.OPEN: "opened",
    CircuitState.HALF_OPEN: "half_open",
    CircuitState.CLOSED: "closed",
}


class Breaker:
    """Closed -> open -> (cool-down) half-open -> closed on a successful trial, or open again.

    ``clock`` is a parameter so that the state machine is tested without waiting.
    """

    def __init__(
        self,
        policy: BreakerPolicy,
        on_change: Callable[[CircuitState, str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.state = CircuitState.CLOSED
        self._on_change = on_change
        self._clock = clock
        self._ring = bytearray(policy.window)
        self._next = 0
        self._calls = 0
        self._failures = 0
        self._opened_at = 0.0
        self._trial = False

    def admit(self) -> bool:
        """May a call go out now? In half-open, one trial call at a time."""
        if self.state is CircuitState.CLOSED or not self.policy.enabled:
            return True
        if self.state is CircuitState.OPEN:
            if self._clock() - self._opened_at < self.policy.cooldown:
                return False
            self._change(CircuitState.HALF_OPEN, "cool-down over, trying one call")
        if self._trial:
            return False
        self._trial = True
        return True

    def record(self, failed: bool) -> None:
        if not self.policy.enabled:
            return
        if self.state is not CircuitState.CLOSED:
            self._trial = False
            if failed:
                self._open("the trial call failed")
            else:
                self._reset()
                self._change(CircuitState.CLOSED, "a trial call succeeded")
            return
        slot = self._next
        self._failures += failed - self._ring[slot]
        self._ring[slot] = failed
        self._next = (slot + 1) % len(self._ring)
        self._calls = min(self._calls + 1, len(self._ring))
        policy = self.policy
        if (
            failed
            and self._calls >= policy.min_calls
            and self._failures >= policy.failure_ratio * self._calls
        ):
            self._open(f"{self._failures} of the last {self._calls} calls failed")

    def cancelled(self) -> None:
        """A trial call that ended without an outcome (cancelled) frees the trial slot."""
        self._trial = False

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock()
        self._change(CircuitState.OPEN, reason)

    def _reset(self) -> None:
        self._ring = bytearray(self.policy.window)
        self._next = self._calls = self._failures = 0

    def _change(self, state: CircuitState, reason: str) -> None:
        if state is self.state:
            return
        self.state = state
        self._on_change(state, reason)


class ServiceGuard:
    """The breaker, bulkhead and counts of one target service in this process."""

    def __init__(
        self,
        service: str,
        breaker: BreakerPolicy,
        concurrency: int,
        emit: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.service = service
        self.concurrency = concurrency
        self.slots = asyncio.Semaphore(concurrency)
        self.breaker = Breaker(breaker, self._changed)
        self.emit = emit
        self.in_flight = 0
        self.calls = 0
        self.failures = 0  # transport failures
        self.errors = 0  # remote exceptions
        self.rejected = 0  # refused here: circuit open, too many in flight
        self.retries = 0
        self.fallbacks = 0
        self._latencies = [0.0] * LATENCY_SAMPLES
        self._latency_next = 0
        self._latency_count = 0

    def finished(self, seconds: float) -> None:
        slot = self._latency_next
        self._latencies[slot] = seconds
        self._latency_next = (slot + 1) % LATENCY_SAMPLES
        if self._latency_count < LATENCY_SAMPLES:
            self._latency_count += 1

    def _changed(self, state: CircuitState, reason: str) -> None:
        level = logging.WARNING if state is CircuitState.OPEN else logging.INFO
        log.log(level, "circuit of service %r %s: %s", self.service, state.value, reason)
        instruments().circuit_changes.add(1, attributes(service=self.service, state=state.value))
        if self.emit is not None:
            self.emit(
                f"{CIRCUIT_PREFIX}.{_EVENT[state]}",
                {"service": self.service, "state": state.value, "reason": reason},
            )

    def stats(self) -> dict[str, Any]:
        recent = sorted(self._latencies[: self._latency_count])

        def quantile(q: float) -> float | None:
            return recent[min(len(recent) - 1, int(q * len(recent)))] if recent else None

        return {
            "service": self.service,
            "breaker": self.breaker.state.value,
            "in_flight": self.in_flight,
            "concurrency": self.concurrency,
            "calls": self.calls,
            "transport_failures": self.failures,
            "remote_errors": self.errors,
            "rejected": self.rejected,
            "retries": self.retries,
            "fallbacks": self.fallbacks,
            "latency_p50": quantile(0.5),
            "latency_p99": quantile(0.99),
        }
