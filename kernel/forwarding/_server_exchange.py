"""One forwarded request on the server side (the module process): the ASGI ``receive`` and
``send`` its app gets.

An answer that is complete at its first body message and fits one NATS message goes back as the
one reply to the gateway's request. Anything else (a body sent in several messages, as streams,
server-sent events and files are, or one too big) opens a channel (``_channel.py``): the reply
names its inbox and the answer is pulled from there in frames. A request whose body the gateway
sends in pieces opens the channel before the app runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote

from kernel.auth import FORWARDED
from kernel.forwarding._server_channel import Channel
from kernel.forwarding._wire import (
    ABORT,
    DATA,
    END,
    HEAD,
    HOP_BY_HOP,
    WireRequest,
    encode_answer,
    encode_open,
)
from kernel.problems import problem_bytes, problem_headers
from kernel.transport import max_payload

log = logging.getLogger("webos.gateway")
_ASGI = {"version": "3.0", "spec_version": "2.3"}


class Exchange:
    def __init__(
        self,
        nats: Any,
        reply: str,
        request: WireRequest,
        limit: int,
        chunk: int,
        *,
        dropped: frozenset[bytes] = HOP_BY_HOP,
    ) -> None:
        self.nats = nats
        self.dropped = dropped  # response headers never sent back (the propagation seam's)
        self.reply = reply  # the gateway's request inbox: answered exactly once
        self.request = request
        self.limit = limit  # the largest body answered in the one reply
        self.chunk = chunk
        self.channel: Channel | None = None
        self.start: dict[str, Any] | None = None  # http.response.start, held until the body
        self.finished = False  # nothing more goes to the gateway
        self._body_given = False
        self._over: asyncio.Event | None = None  # made when the app waits for a disconnect

    def scope(self) -> dict[str, Any]:
        raw_path, _, query = self.request.target.partition(b"?")
        path = raw_path.decode("latin-1")
        return {
            "type": "http",
            "asgi": _ASGI,
            "http_version": "1.1",
            "method": self.request.method,
            "scheme": "http",
            "path": unquote(path) if "%" in path else path,
            "raw_path": raw_path,
            "root_path": "",
            "query_string": query,
            "headers": self.request.headers,
            "client": ("127.0.0.1", 0),
            "server": ("webos-forward", 0),
            "state": {},
            FORWARDED: True,
        }

    async def run(self, app: Any) -> None:
        try:
            if not self.request.whole:
                await self._open()
            await app(self.scope(), self.receive, self.send)
            if not self.finished:
                await self._fail("the route returned without a complete response")
        except Exception:
            log.exception("forwarded %s %s failed", self.request.method, self.request.target)
            await self._fail("the module failed to answer; the error was logged")
        finally:
            self._end()
            if self.channel is not None:
                await self.channel.close()

    def describe(self) -> str:
        """``GET /api/x/y``: the request's method and path, without its query."""
        path = self.request.target.partition(b"?")[0].decode("latin-1")
        return f"{self.request.method} {path}"

    async def shut(self, reason: str) -> None:
        """End an exchange the app has not finished (the process is stopping): a stream breaks
        off, an answer not started yet is a 503 the gateway passes on at once."""
        if self.channel is not None:
            await self.channel.abort(reason)
        elif not self.finished:
            self.finished = True
            body = problem_bytes(503, reason)
            await self.nats.publish(self.reply, encode_answer(503, problem_headers(body), body))
        self.finished = True
        self._end()

    # -- ASGI --------------------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        if self.request.whole:
            if not self._body_given:
                self._body_given = True
                return {"type": "http.request", "body": self.request.body, "more_body": False}
        elif self.channel is not None and not self.channel.body_taken:
            piece = await self.channel.take()
            if piece is not None:
                return {"type": "http.request", "body": piece[0], "more_body": piece[1]}
        # Like a server: the next message is the disconnect, once the exchange is over.
        if not self.finished and (self.channel is None or self.channel.gone is None):
            if self._over is None:
                self._over = asyncio.Event()
            await self._over.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.finished:
            return  # after a disconnect the rest is dropped, as servers do
        if self.start is None:
            raise RuntimeError("http.response.body sent before http.response.start")
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.channel is None and not more and len(body) <= self.limit:
            answer = encode_answer(*self._head(), body, dropped=self.dropped)
            # Headers beyond the headroom: the body goes in frames after all.
            if _fits(self.nats, answer):
                self.finished = True
                await self.nats.publish(self.reply, answer)
                self._end()
                return
        if self.channel is None or not self.channel.head_sent:
            head = HEAD + encode_answer(*self._head(), whole=False, dropped=self.dropped)
            if not _fits(self.nats, head):  # sent, the server would close this connection
                detail = (
                    f"the answer's headers take {len(head):,} bytes, more than one NATS message "
                    f"holds ({max_payload(self.nats):,}, the server's max_payload)"
                )
                log.warning("forwarded %s not answered: %s", self.describe(), detail)
                await self._fail(detail, status=413)  # the app's later messages are dropped
                return
        channel = self.channel or await self._open()
        if not channel.head_sent:
            channel.head_sent = True
            await self._put(head)
        view = memoryview(body)
        for at in range(0, len(body), self.chunk):
            await self._put(DATA + view[at : at + self.chunk])
        if not more:
            await self._put(END)
            self.finished = True
            self._end()

    # -- internals ---------------------------------------------------------------------------

    def _head(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        assert self.start is not None
        return self.start["status"], list(self.start.get("headers", ()))

    async def _open(self) -> Channel:
        channel = Channel(self.nats, on_gone=self._end)
        await channel.open()
        self.channel = channel
        await self.nats.publish(self.reply, encode_open(channel.inbox))
        return channel

    async def _put(self, frame: bytes) -> None:
        assert self.channel is not None
        if not self.finished and not await self.channel.put(frame):
            self.finished = True  # the gateway left: drop the rest

    async def _fail(self, detail: str, status: int = 500) -> None:
        """Answer ``status`` if nothing was answered yet, else tell the gateway the answer broke
        off."""
        if self.finished:
            return
        if self.channel is not None and self.channel.head_sent:
            await self._put(ABORT + detail.encode())
            self.finished = True
            return
        body = problem_bytes(status, detail)
        self.start = {"status": status, "headers": problem_headers(body)}
        if self.channel is None:
            self.finished = True
            await self.nats.publish(
                self.reply, encode_answer(*self._head(), body, dropped=self.dropped)
            )
            return
        await self.send({"type": "http.response.body", "body": body})

    def _end(self) -> None:
        if self._over is not None:
            self._over.set()


def _fits(nats: Any, message: bytes) -> bool:
    limit = max_payload(nats)
    return limit is None or len(message) <= limit
