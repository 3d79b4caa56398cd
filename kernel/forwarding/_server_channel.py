"""The server side (the module process) of a chunked exchange with the gateway (frames: see
``_wire.py``).

A channel is an inbox the gateway sends frames to. Pulls wait in a queue until the app has the
next answer frame; request body pieces wait until the app's ``receive`` takes them, and only then
are acknowledged, so the gateway never has more than ``WINDOW`` pieces here. Pings are answered
at once. A ``CANCEL`` (the HTTP client left), or no word from the gateway for ``GONE_AFTER``
seconds (it pings every ``PING_EVERY``), ends the channel: the app's ``receive`` then returns
``http.disconnect`` and what it still sends is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from kernel.forwarding._wire import (
    ABORT,
    ACK,
    CANCEL,
    DATA,
    END,
    GONE_AFTER,
    PING,
    PING_EVERY,
    PULL,
)
from kernel.transport import check_size

log = logging.getLogger("webos.gateway")


class Channel:
    def __init__(self, nats: Any, on_gone: Callable[[], None]) -> None:
        self.nats = nats
        self.inbox: str = nats.new_inbox()
        self.on_gone = on_gone
        self.pulls: deque[str] = deque()  # reply subjects of pulls not answered yet
        self.pieces: deque[tuple[bytes, str, bool]] = deque()  # body piece, ack subject, last
        self.changed = asyncio.Event()
        self.gone: str | None = None  # why the exchange is over for the gateway's side
        self.heard = asyncio.get_running_loop().time()
        self.head_sent = False
        self.body_taken = False
        self._subscription: Any = None
        self._watchdog: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._subscription = await self.nats.subscribe(self.inbox, cb=self._frame)
        self._watchdog = asyncio.create_task(self._watch())

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._subscription is not None:
            await self._subscription.unsubscribe()

    async def put(self, frame: bytes) -> bool:
        """Send one answer frame as soon as the gateway pulls; False if it never will."""
        await self._until(lambda: bool(self.pulls))
        if self.gone is not None:
            return False
        reply = self.pulls.popleft()
        check_size(self.nats, reply, frame, None)  # frames are sized to fit (_wire.chunk_size)
        await self.nats.publish(reply, frame)
        return True

    async def take(self) -> tuple[bytes, bool] | None:
        """The next request body piece and whether more follow; None if the gateway left."""
        await self._until(lambda: bool(self.pieces))
        if self.gone is not None:
            return None
        data, ack, last = self.pieces.popleft()
        self.body_taken = last
        await self.nats.publish(ack, ACK)
        return data, not last

    async def abort(self, reason: str) -> None:
        """Tell the gateway the answer will not be finished (the process is stopping)."""
        while self.pulls and self.gone is None:
            await self.nats.publish(self.pulls.popleft(), ABORT + reason.encode())
        self.lose(reason)

    def lose(self, reason: str) -> None:
        if self.gone is None:
            self.gone = reason
            self.changed.set()
            self.on_gone()

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready() and self.gone is None:
            self.changed.clear()
            await self.changed.wait()

    async def _frame(self, msg: Any) -> None:
        self.heard = asyncio.get_running_loop().time()
        kind = msg.data[:1]
        if kind == PING:
            await self.nats.publish(msg.reply, PING)
            return
        if kind == PULL:
            self.pulls.append(msg.reply)
        elif kind in (DATA, END):
            self.pieces.append((msg.data[1:], msg.reply, kind == END))
        elif kind == CANCEL:
            self.lose("the client went away")
        else:
            log.warning("ignored an unknown forwarding frame %r on %s", kind, msg.subject)
            return
        self.changed.set()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while self.gone is None:
            await asyncio.sleep(PING_EVERY)
            if loop.time() - self.heard > GONE_AFTER:
                self.lose("the gateway stopped answering")
