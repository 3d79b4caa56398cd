"""The gateway's HTTP server sends a response's head and body in one write, and no later than
that: a streamed body still leaves chunk by chunk, a large one whole.

A real uvicorn with the gateway's protocol class on a loopback socket, a real Litestar app and a
real HTTP client; the server's socket writes are counted under the protocol.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar, get
from litestar.response import Stream

from kernel.assembly import CoalescingHttpToolsProtocol

BIG = bytes(range(256)) * 4096  # 1 MiB


#: What the server wrote to its sockets, one entry per ``write`` of a real transport.
Writes = list[bytes]


class _Counted:
    def __init__(self, transport: asyncio.Transport, writes: Writes) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _protocol(writes: Writes) -> type[CoalescingHttpToolsProtocol]:
    class Counting(CoalescingHttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_Counted(transport, writes))  # type: ignore[arg-type]

    return Counting


def _app(chunk_read: asyncio.Event) -> Litestar:
    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    @get("/big", sync_to_thread=False, media_type="application/octet-stream")
    def big() -> bytes:
        return BIG

    @get("/stream", sync_to_thread=False)
    def stream() -> Stream:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first;"
            # Only a client that already read the first chunk lets the second one come.
            await asyncio.wait_for(chunk_read.wait(), 10)
            yield b"second"

        return Stream(chunks(), media_type="text/plain")

    return Litestar([hello, big, stream], debug=False)


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Writes, asyncio.Event]]:
    writes: Writes = []
    chunk_read = asyncio.Event()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _app(chunk_read), log_config=None, lifespan="off", http=_protocol(writes)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), task
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", writes, chunk_read
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def _responses(writes: Writes) -> Iterator[bytes]:
    return (made for made in writes if made.startswith(b"HTTP/1.1 "))


async def test_a_response_leaves_in_one_write_with_its_head(
    served: tuple[str, Writes, asyncio.Event],
) -> None:
    base, writes, _ = served
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(3):  # one connection, kept alive
            response = await client.get("/hello")
            assert response.status_code == 200
            assert response.json() == {"hello": "world"}
    assert len(writes) == 3, writes
    for made in writes:
        assert made.startswith(b"HTTP/1.1 200 OK\r\n"), made
        assert made.endswith(b'{"hello":"world"}'), made


async def test_a_large_body_arrives_whole(served: tuple[str, Writes, asyncio.Event]) -> None:
    base, writes, _ = served
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/big")
    assert response.status_code == 200
    assert response.content == BIG
    assert sum(len(made) for made in writes) > len(BIG)
    assert len(list(_responses(writes))) == 1


async def test_a_streamed_body_leaves_as_it_is_produced(
    served: tuple[str, Writes, asyncio.Event],
) -> None:
    base, _, chunk_read = served
    received = b""
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream("GET", "/stream") as response,
    ):
        async for chunk in response.aiter_bytes():
            received += chunk
            if received.startswith(b"first;"):
                chunk_read.set()
    # A server holding the first chunk back would have waited for the second one forever.
    assert received == b"first;second"
