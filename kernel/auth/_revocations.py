"""Sessions ended before their access tokens expire: at logout, and when a refresh token is reused.

An access token carries ``sid``, the session it was issued for (the refresh-token family: one
login and every refresh descending from it). Ending a session lists its id here until the last
access token issued for it has expired: issued now at the latest, so for the access-token lifetime
plus the leeway. The bearer and cookie authenticators refuse a token whose session is listed. The
check is a look-up in memory, no network per request, and memory is bounded by that lifetime:
expired entries are dropped as new ones come.

Other gateway replicas learn of an ended session through ``share`` (set by
``kernel.revocations``, which writes to a NATS KV bucket) and tell this one through ``add`` (its
watcher of the bucket). Without them the list is this process's alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

#: How often, at most, ``add`` sweeps expired entries (seconds): cheap, and keeps memory bounded.
SWEEP_EVERY = 30.0

Share = Callable[[str, float], Awaitable[None]]


class SessionRevocations:
    """Session ids with the (Unix) time until which their access tokens are refused."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._clock = clock
        self._swept = clock()
        self._lock = threading.Lock()
        #: Tells the other replicas; set by whoever shares the list (``kernel.revocations``).
        self.share: Share | None = None

    def add(self, session: str, until: float) -> None:
        """List ``session`` until ``until`` (a later time wins if it is already listed)."""
        now = self._clock()
        with self._lock:
            if until > now:
                self._until[session] = max(until, self._until.get(session, 0.0))
            if now - self._swept >= SWEEP_EVERY:
                self._swept = now
                self._until = {sid: end for sid, end in self._until.items() if end > now}

    def is_revoked(self, session: str) -> bool:
        until = self._until.get(session)
        return until is not None and until > self._clock()

    async def revoke(self, session: str, until: float) -> None:
        """End ``session`` here at once, then tell the other replicas (may raise if it cannot)."""
        self.add(session, until)
        if self.share is not None:
            await self.share(session, until)

    def __len__(self) -> int:
        return len(self._until)
