"""The gateway replicas' shared list of ended sessions (``kernel.auth._revocations``).

Ending a session (logout, a reused refresh token) writes its id to the KV bucket
``WEBOS_REVOKED_SESSIONS``, the value being the Unix time until which its access tokens are
refused. Every gateway watches the bucket and adds what it sees to its security subsystem's
in-memory list, so a token is refused at once on the replica that ended the session and within a
NATS round trip on the others, while checking a token never waits on the network. At start the
current entries are read before the gateway serves anything. The bucket keeps an entry for the
access-token lifetime plus the leeway (and a margin): by then no token of that session is valid.

Deletes are ignored: a listed session stays listed here until it expires, whoever purges the
bucket. Only the gateway needs the bucket (it runs the auth module, which ends sessions, and it
checks every access token); its NATS user already has ``$KV.>`` and ``$JS.API.>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError

from kernel.auth import AuthSettings, SecuritySubsystem
from kernel.bus import Bus
from kernel.config import CoreSettings
from kernel.contracts import Host
from kernel.errors import WebOSError
from kernel.transport import JetStreamSettings, add_bucket

BUCKET = "WEBOS_REVOKED_SESSIONS"
# Kept a little longer than strictly needed: a replica whose clock is behind still sees it.
MARGIN = 60.0

log = logging.getLogger("webos.revocations")


class RevocationNotShared(WebOSError):
    """A session ended on this gateway but could not be written for the other replicas."""

    http_status = 503


async def _open(js: Any, ttl: float, replicas: int) -> Any:
    try:
        return await js.key_value(BUCKET)
    except BucketNotFoundError:
        pass
    config = KeyValueConfig(bucket=BUCKET, history=1, ttl=ttl, storage=StorageType.FILE)
    try:
        return await add_bucket(js, config, replicas)
    except BadRequestError:  # another gateway created it first
        return await js.key_value(BUCKET)


def _until(entry: Any, lifetime: float) -> float:
    try:
        return float(entry.value.decode())
    except (AttributeError, UnicodeDecodeError, ValueError):
        # Unreadable: refuse the session for as long as any of its tokens could live.
        log.warning("unreadable entry for session %s in %s", entry.key, BUCKET)
        return time.time() + lifetime


class RevocationsSubsystem:
    """Shares ended sessions between gateways (see the module docstring)."""

    name = "revocations"

    def __init__(self) -> None:
        self._security: SecuritySubsystem | None = None
        self._kv: Any = None
        self._watcher: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lifetime = 0.0

    async def start(self, host: Host) -> None:
        settings = host.get(AuthSettings)
        self._lifetime = settings.access_token_ttl + settings.jwt_leeway
        security = self._security = host.get(SecuritySubsystem)
        replicas = host.get(JetStreamSettings).replicas
        self._kv = await _open(host.get(Bus).nats.jetstream(), self._lifetime + MARGIN, replicas)
        self._watcher = await self._kv.watchall()
        timeout = host.get(CoreSettings).request_timeout
        # The entries already there, before this gateway serves a request: None marks the end.
        while (entry := await self._watcher.updates(timeout=timeout)) is not None:
            self._apply(entry)
        self._task = asyncio.create_task(self._follow(), name="webos-revocations")
        security.sessions.share = self._put

    def _apply(self, entry: Any) -> None:
        if entry.operation is not None or self._security is None:
            return  # a delete or a purge: a listed session stays listed until it expires
        self._security.sessions.add(entry.key, _until(entry, self._lifetime))

    async def _follow(self) -> None:
        async for entry in self._watcher:  # ends when the watcher is stopped
            if entry is not None:
                self._apply(entry)

    async def _put(self, session: str, until: float) -> None:
        try:
            await self._kv.put(session, f"{until:.3f}".encode())
        except Exception as error:
            raise RevocationNotShared(
                "the session ended on this gateway but could not be shared with the other "
                f"replicas ({type(error).__name__}: {error}); try again"
            ) from error

    async def stop(self) -> None:
        if self._security is not None:
            self._security.sessions.share = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            with contextlib.suppress(Exception):
                await watcher.stop()

    async def check(self) -> str | None:
        task = self._task
        if task is not None and task.done():
            return "the list of ended sessions is no longer watched"
        return None
