"""uvicorn's HTTP protocol, writing a response's head and body to the socket together.

uvicorn writes each ASGI message as it comes: the status line and headers on
``http.response.start``, the body on ``http.response.body``. An app sends both in one step of the
event loop, so the socket got two ``send`` calls and the client two TCP segments per response
(sampled on the gateway, the two writes held a quarter of its CPU per request; one write instead
saved about 15% of it, ``scripts/bench_profile.py http-inprocess --py-spy``). The transport
here keeps what is written during one step of the loop and sends it in one call at the end of
that step, or at once past :data:`FLUSH_AT` bytes, so large and streamed bodies still go out as
they are written and flow control sees them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Bytes held back at most: past it what is held goes out at once, and a write this large is
#: not held at all.
FLUSH_AT = 64 * 1024


class CoalescingTransport:
    """A transport whose writes of one loop step leave in one ``write`` of the real one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= FLUSH_AT:
            # A large chunk leaves on its own, after what was held: joining would copy it.
            self.flush()
            if not self.transport.is_closing():
                self.transport.write(data)
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Send what is held (nothing when the connection is closing: it could not be sent)."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._size = 0
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + self._size

    def __getattr__(self, name: str) -> Any:
        # Reading, pausing, extra info, abort: the real transport's, unchanged.
        return getattr(self.transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """``uvicorn.Config(http=...)``: httptools' protocol on a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]

    def handle_websocket_upgrade(self) -> None:
        # The websocket protocol takes over the real transport, with nothing left held back.
        coalescing = self.transport
        if isinstance(coalescing, CoalescingTransport):
            coalescing.flush()
            self.transport = coalescing.transport
        super().handle_websocket_upgrade()
