"""Events a stream keeps are stored, and the sender hears so, or hears that they were not.

A subject that some durable handler takes (anywhere in the system) is captured by the
``WEBOS_EVENTS`` stream. Emitting one is a JetStream publish whose acknowledgement is awaited and
retried across leader elections and reconnects for up to ``WEBOS_PUBLISH_TIMEOUT``; when the
event is still not stored, ``emit`` raises :class:`EventNotStored`, so no caller is told "done"
for an event that may be lost. Other subjects stay plain NATS publishes: at most once, and fast.

Which subjects the stream keeps is read from the server at connect, again whenever JetStream
announces a change to the stream, and every :data:`REFRESH_EVERY` seconds in case an
announcement was missed while disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nats.js.errors import NotFoundError

from kernel.bus._event import REPLAY_PREFIX
from kernel.bus._streams import EVENTS_STREAM, EVENTS_STREAM_CHANGES
from kernel.errors import WebOSError
from kernel.transport import AckedPublisher, PayloadTooLarge, covers

log = logging.getLogger("webos.bus")

REFRESH_EVERY = 30.0
_REMEMBERED = 4096  # subjects whose answer is cached; events use a bounded set of subjects


class EventNotStored(WebOSError, RuntimeError):
    """An event that must be kept was not stored by JetStream in time: the caller should retry."""

    http_status = 503


class Keeper:
    """Knows which subjects ``WEBOS_EVENTS`` keeps, and stores events on them."""

    def __init__(self, connection: Any, *, timeout: float) -> None:
        self._connection = connection
        self._timeout = timeout
        self._publisher = AckedPublisher(connection, timeout=timeout)
        self._patterns: tuple[str, ...] = ()
        self._answers: dict[str, bool] = {}
        self._advisories: Any = None
        self._refresher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._publisher.start()
        await self.refresh()
        self._advisories = await self._connection.subscribe(
            EVENTS_STREAM_CHANGES, cb=self._on_advisory
        )
        self._refresher = asyncio.create_task(self._refresh_now_and_then(), name="webos-keeper")

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        if self._advisories is not None:
            try:
                await self._advisories.unsubscribe()
            except Exception as error:  # the connection may be closing already
                log.debug("stream-change subscription not ended: %s", error)
            self._advisories = None
        await self._publisher.close()

    async def refresh(self) -> None:
        """Read the stream's subjects from the server."""
        try:
            info = await self._connection.jetstream().stream_info(EVENTS_STREAM)
        except NotFoundError:
            patterns: tuple[str, ...] = ()
        else:
            patterns = tuple(
                subject
                for subject in info.config.subjects or ()
                if not subject.startswith(REPLAY_PREFIX)
            )
        if patterns != self._patterns:
            self._patterns, self._answers = patterns, {}

    def keeps(self, subject: str) -> bool:
        answer = self._answers.get(subject)
        if answer is None:
            answer = any(covers(pattern, subject) for pattern in self._patterns)
            if len(self._answers) >= _REMEMBERED:
                self._answers.clear()
            self._answers[subject] = answer
        return answer

    async def store(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        """Publish and wait until JetStream stored it; ``EventNotStored`` when it did not."""
        try:
            await self._publisher.publish_stored(
                subject, payload, headers=headers, within=self._timeout
            )
        except PayloadTooLarge:
            raise
        except Exception as error:
            raise EventNotStored(
                f"event on {subject!r} was not stored within {self._timeout:g}s "
                f"({type(error).__name__}: {error or 'no answer'}); it may be retried"
            ) from error

    async def _on_advisory(self, _message: Any) -> None:
        try:
            await self.refresh()
        except Exception as error:  # the periodic refresh tries again
            log.warning("could not read %s after a change: %s", EVENTS_STREAM, error)

    async def _refresh_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                await self.refresh()
            except Exception as error:
                log.warning("could not read the subjects %s keeps: %s", EVENTS_STREAM, error)
