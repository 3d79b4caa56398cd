"""Login throttling in memory: refuse per (account, address) pair and per address, slow down per
account.

A lock per account alone is a denial of service: anyone who knows an e-mail address can keep its
owner out by failing on purpose. So refusals (429) are keyed by the pair, which stops one client
guessing one account, and by the address, which stops one client spraying a common password over
many accounts. Guessing one account from many addresses is slowed instead: past ``slow_after``
recent failures every attempt on that account waits, twice as long per further failure up to
``max_delay``, its owner included, who is delayed but never refused.

The address is the peer's, or the one a trusted proxy forwarded for (``_addresses.py``). Success
forgets the pair's failures and the account's slowdown; the address keeps its count, or an
attacker could interleave logins to an account of their own.

Each process keeps its own counts (a gateway with several workers multiplies the limits by their
number); memory is bounded by ``max_keys`` per table and by the limit per key.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

#: The first delay of a slowed-down account, seconds; it doubles with each further failure.
FIRST_DELAY = 0.25


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

    def recent(self, key: str, now: float) -> int:
        times = self.entries.get(key)
        return 0 if times is None else sum(1 for at in times if at + self.window > now)

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
    """Counts failed logins (and failed current-password checks).

    Usage: ``wait = limiter.check(email, ip)``; if not None answer 429 with ``Retry-After:
    ceil(wait)`` without checking the password; otherwise sleep ``limiter.delay(email)`` seconds,
    then check it; on a wrong password ``record_failure``; on success ``reset(email, ip)``.
    ``clock`` returns seconds (monotonic); tests pass a fake one.
    """

    def __init__(
        self,
        *,
        max_per_pair: int = 5,
        max_per_address: int = 20,
        slow_after: int = 5,
        max_delay: float = 5.0,
        window: float = 15 * 60,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min(max_per_pair, max_per_address, slow_after, max_keys) < 1 or window <= 0:
            raise ValueError("limits, window and max_keys must be positive")
        if max_delay < 0:
            raise ValueError("max_delay must not be negative")
        self.max_delay = max_delay
        self.slow_after = slow_after
        # Enough failures per account to reach max_delay by doubling FIRST_DELAY.
        doublings = math.ceil(math.log2(max(max_delay / FIRST_DELAY, 1))) + 1
        self._pairs = _Window(max_per_pair, window, max_keys)
        self._addresses = _Window(max_per_address, window, max_keys)
        self._accounts = _Window(slow_after + doublings, window, max_keys)
        self._clock = clock
        # Cheap, and makes the limiter safe to share with sync handlers run in worker threads.
        self._lock = threading.Lock()

    @staticmethod
    def _account(account: str) -> str:
        # E-mail addresses differ only in case for the same person; count them together.
        return account.strip().casefold()

    def _pair(self, account: str, address: str | None) -> str:
        return f"{self._account(account)}\x00{address or 'unknown'}"

    def check(self, account: str, address: str | None) -> float | None:
        """Seconds to wait before the next attempt (for ``Retry-After``), or None to go ahead."""
        now = self._clock()
        with self._lock:
            waits = [self._pairs.wait(self._pair(account, address), now)]
            if address:
                waits.append(self._addresses.wait(address, now))
        present = [wait for wait in waits if wait is not None]
        return max(present) if present else None

    def delay(self, account: str) -> float:
        """Seconds an attempt on ``account`` waits before its password is checked (0 mostly)."""
        now = self._clock()
        with self._lock:
            failures = self._accounts.recent(self._account(account), now)
        if failures < self.slow_after:
            return 0.0
        return min(self.max_delay, FIRST_DELAY * 2 ** (failures - self.slow_after))

    def record_failure(self, account: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            self._pairs.record(self._pair(account, address), now)
            self._accounts.record(self._account(account), now)
            if address:
                self._addresses.record(address, now)

    def reset(self, account: str, address: str | None) -> None:
        """After a success: the pair and the account start afresh; the address does not."""
        with self._lock:
            self._pairs.forget(self._pair(account, address))
            self._accounts.forget(self._account(account))

    def tracked(self) -> tuple[int, int, int]:
        """How many pairs, addresses and accounts are remembered (for metrics and tests)."""
        with self._lock:
            return (
                len(self._pairs.entries),
                len(self._addresses.entries),
                len(self._accounts.entries),
            )
