"""The client side (the gateway) of a chunked exchange with a module process (frames: see
``_wire.py``).

A relay uploads the request body in pieces, at most ``WINDOW`` not yet taken by the module's app,
pulls the answer (its head, then body pieces, ``WINDOW`` pulls in flight) and writes each piece to
the HTTP client before pulling another, so a slow client slows the module down instead of filling
the gateway's memory. Every frame it sends carries a fresh reply subject under one inbox of its
own, so all answers arrive, in order, on one subscription.

Both peers are watched. The module is pinged every ``PING_EVERY`` seconds: a process that died
has no subscription any more and NATS says so at once (no responders); one that went silent is
given up after ``GONE_AFTER``. The HTTP client is watched for a disconnect, which is passed on to
the module (``CANCEL``) so its app sees ``http.disconnect``. If the module goes away before the
answer started, the client gets a 502 problem document; after, the connection is closed
mid-body, so the client cannot take a cut-off body for a whole one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar.types import HTTPResponseStartEvent, Receive, Send

from kernel.errors import WebOSError
from kernel.forwarding._wire import (
    ABORT,
    ACK,
    CANCEL,
    DATA,
    END,
    GONE_AFTER,
    HEAD,
    PING,
    PING_EVERY,
    PULL,
    WINDOW,
    WireError,
    decode_answer,
)
from kernel.problems import send_problem
from kernel.transport import check_size

log = logging.getLogger("webos.gateway")

#: Status recorded (metrics, spans) when the HTTP client left before the answer: nginx's 499.
CLIENT_GONE = 499
_NO_RESPONDERS = "503"


class StreamAborted(WebOSError, ConnectionError):
    """The module went away mid-answer; raised so the server closes the client's connection."""


class Relay:
    def __init__(
        self, nats: Any, peer: str, receive: Receive, send: Send, chunk: int, module: str
    ) -> None:
        self.nats = nats
        self.peer = peer  # the module's inbox for this exchange
        self.receive = receive
        self.send = send
        self.chunk = chunk
        self.module = module
        self.inbox = nats.new_inbox()
        self.frames: asyncio.Queue[Any] = asyncio.Queue()
        self.asked = 0
        self.unacked = 0
        self.room = asyncio.Event()  # set when an upload piece was taken, or the relay ends
        self.heard = asyncio.get_running_loop().time()
        self.gone: str | None = None  # why the exchange cannot go on
        self.client_gone = False
        self.ended = False  # the whole answer arrived

    async def run(self, upload: tuple[bytes, bool] | None, *, instance: str) -> int:
        """Relay the answer; ``upload`` is the request body read so far and whether more
        follows (None: the module already has the whole body). Returns the status."""
        subscription = await self.nats.subscribe(f"{self.inbox}.*", cb=self._heard)
        helpers = [asyncio.create_task(self._guarded(self._ping()))]
        if upload is None:
            helpers.append(asyncio.create_task(self._guarded(self._watch_client())))
        else:
            helpers.append(asyncio.create_task(self._guarded(self._upload(*upload))))
        try:
            return await self._answer(instance)
        finally:
            for helper in helpers:
                helper.cancel()
            await subscription.unsubscribe()
            if self.gone is None and not self.ended:
                await self._cut_short()

    async def _cut_short(self) -> None:
        # Ended here (the gateway is stopping): tell the module rather than let it wait for
        # GONE_AFTER. Best effort: NATS may be closing too, and then the module's watchdog acts.
        try:
            await self.nats.publish(self.peer, CANCEL)
        except Exception as error:
            log.debug("could not cancel the stream of module %r: %r", self.module, error)

    async def _answer(self, instance: str) -> int:
        status = 0
        for _ in range(WINDOW):
            await self._ask(PULL)
        while (msg := await self._next()) is not None:
            kind, data = msg.data[:1], msg.data[1:]
            if kind == ACK:
                self.unacked -= 1
                self.room.set()
            elif kind == PING:
                pass  # the module is alive; _heard noted it
            elif kind == HEAD and not status:
                status = await self._start(data)
            elif kind == DATA and status:
                await self.send({"type": "http.response.body", "body": data, "more_body": True})
            elif kind == END and status:
                self.ended = True
                await self.send({"type": "http.response.body", "body": b"", "more_body": False})
                return status
            elif kind == ABORT:
                self._give_up(f"module {self.module!r} gave up: {data.decode(errors='replace')}")
            else:
                self._give_up(f"module {self.module!r} sent an unexpected frame {kind!r}")
            if kind in (HEAD, DATA) and self.gone is None:
                await self._ask(PULL)  # the frame answered a pull: keep WINDOW in flight
        if self.client_gone:
            return CLIENT_GONE
        log.warning("forwarded %s: %s", instance, self.gone)
        if not status:
            return await send_problem(self.send, 502, str(self.gone), instance)
        raise StreamAborted(self.gone)

    async def _start(self, head: bytes) -> int:
        """Send the answer's status and headers to the client; 0 if the head is unreadable."""
        try:
            answer = decode_answer(head)
        except WireError as error:
            self._give_up(f"module {self.module!r} sent an unreadable answer head: {error}")
            return 0
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": answer.status,
            "headers": answer.headers,
        }
        await self.send(start)
        return answer.status

    async def _next(self) -> Any | None:
        """The next answer from the module, or None once the exchange cannot go on."""
        loop = asyncio.get_running_loop()
        while self.gone is None:
            msg = await self.frames.get()
            if msg is None:  # a tick from _ping, or _give_up
                if loop.time() - self.heard > GONE_AFTER:
                    self._give_up(f"module {self.module!r} stopped answering")
            elif msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
                self._give_up(f"module {self.module!r} went away mid-answer")
            else:
                return msg
        return None

    async def _heard(self, msg: Any) -> None:
        self.heard = asyncio.get_running_loop().time()
        self.frames.put_nowait(msg)

    async def _ask(self, frame: bytes) -> None:
        check_size(self.nats, self.peer, frame, None)  # frames are sized to fit (_wire.chunk_size)
        self.asked += 1
        await self.nats.publish(self.peer, frame, reply=f"{self.inbox}.{self.asked}")

    def _give_up(self, reason: str) -> None:
        if self.gone is None:
            self.gone = reason
        self.room.set()
        self.frames.put_nowait(None)

    async def _guarded(self, work: Any) -> None:
        # A helper that fails ends the exchange (with the reason in the log), never silently.
        try:
            await work
        except (ConnectionError, OSError, WireError) as error:
            self._give_up(f"forwarding to module {self.module!r} failed: {error}")
        except Exception as error:
            log.exception("forwarding to module %r failed", self.module)
            self._give_up(f"forwarding to module {self.module!r} failed: {error!r}")

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(PING_EVERY)
            self.frames.put_nowait(None)  # wakes _next to see how long the module was silent
            await self._ask(PING)

    async def _watch_client(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass  # a request body that already arrived whole; only the disconnect matters
        await self._client_left()

    async def _client_left(self) -> None:
        self.client_gone = True
        self._give_up("the client went away")
        await self.nats.publish(self.peer, CANCEL)

    async def _upload(self, first: bytes, more: bool) -> None:
        buffer = bytearray(first)
        while True:
            while more and len(buffer) < self.chunk:
                message: Any = await self.receive()
                if message["type"] == "http.disconnect":
                    await self._client_left()
                    return
                buffer += message.get("body", b"")
                more = message.get("more_body", False)
            while len(buffer) >= self.chunk or (buffer and not more):
                if not await self._send_piece(DATA + buffer[: self.chunk]):
                    return
                del buffer[: self.chunk]
            if not more:
                break
        if await self._send_piece(END):
            await self._watch_client()

    async def _send_piece(self, frame: bytes) -> bool:
        """Send one upload frame once the window has room; False when the relay is over."""
        while self.unacked >= WINDOW and self.gone is None:
            self.room.clear()
            await self.room.wait()
        if self.gone is not None:
            return False
        self.unacked += 1
        await self._ask(frame)
        return True
