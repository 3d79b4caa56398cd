"""Login throttling: a sliding window per account and per client address, in memory.

Per account stops guessing one account's password from many addresses; per address stops one
client from spraying a common password over many accounts. Success resets the account's count
only: the address keeps its failures, or an attacker could interleave logins to their own account.

Each process keeps its own counts (a gateway with several workers multiplies the limits by their
number); memory is bounded by ``max_keys`` per table and by the limit per key.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class _Window:
    """Failure times per key, least recently touched first."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.entries: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float | None:
        times = self.entries.get(key)
        # Only the last `limit` failures are kept: the limit is hit when the oldest of them is
        # still inside the window, and the wait is until it leaves.
        if times is None or len(times) < self.limit:
            return None
        remaining = times[0] + self.window - now
        return remaining if remaining > 0 else None

    def record(self, key: str, now: float) -> None:
        times = self.entries.get(key)
        if times is None:
            times = self.entries[key] = deque(maxlen=self.limit)
        else:
            self.entries.move_to_end(key)
        times.append(now)
        self._evict(now)

    def _evict(self, now: float) -> None:
        # The front holds the keys touched longest ago: drop those whose newest failure has left
        # the window, then (under a flood of distinct keys) the oldest ones beyond max_keys.
        while self.entries:
            key, times = next(iter(self.entries.items()))
            if times[-1] + self.window <= now or len(self.entries) > self.max_keys:
                del self.entries[key]
            else:
                break

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)


class LoginLimiter:
    """Counts failed logins; ``check`` says how long to wait before another attempt.

    Usage: ``wait = limiter.check(email, ip)``; if not None answer 429 with ``Retry-After:
    ceil(wait)`` without checking the password; on a wrong password ``record_failure``; on success
    ``reset(email)``. ``clock`` returns seconds (monotonic); tests pass a fake one.
    """

    def __init__(
        self,
        *,
        max_per_account: int = 5,
        max_per_address: int = 20,
        window: float = 15 * 60,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min(max_per_account, max_per_address, max_keys) < 1 or window <= 0:
            raise ValueError("limits, window and max_keys must be positive")
        self._accounts = _Window(max_per_account, window, max_keys)
        self._addresses = _Window(max_per_address, window, max_keys)
        self._clock = clock
        # Cheap, and makes the limiter safe to share with sync handlers run in worker threads.
        self._lock = threading.Lock()

    @staticmethod
    def _account(account: str) -> str:
        # E-mail addresses differ only in case for the same person; count them together.
        return account.strip().casefold()

    def check(self, account: str, address: str | None) -> float | None:
        """Seconds to wait before the next attempt (for ``Retry-After``), or None to go ahead."""
        now = self._clock()
        with self._lock:
            waits = [self._accounts.wait(self._account(account), now)]
            if address:
                waits.append(self._addresses.wait(address, now))
        present = [wait for wait in waits if wait is not None]
        return max(present) if present else None

    def record_failure(self, account: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            self._accounts.record(self._account(account), now)
            if address:
                self._addresses.record(address, now)

    def reset(self, account: str) -> None:
        with self._lock:
            self._accounts.forget(self._account(account))

    def tracked(self) -> tuple[int, int]:
        """How many accounts and addresses are currently remembered (for metrics and tests)."""
        with self._lock:
            return len(self._accounts.entries), len(self._addresses.entries)
