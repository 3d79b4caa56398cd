"""``KernelClient`` writes what is pending on ``call_soon`` (``kernel/transport/_client.py``):
every publish of one loop iteration goes out in one write and in order, publishes made while
disconnected go out after the reconnect, and the pending size limit still makes a publisher wait
for the socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kernel.testing import free_port, server_caught_up
from kernel.transport import EmbeddedNats, KernelClient, publish_block

TIMEOUT = 30.0  # a test that waited this out would fail its assertions


async def _kernel_client(url: str, **options: Any) -> KernelClient:
    client = KernelClient()
    await client.connect(url, name="test-write-soon", **options)
    return client


@pytest.fixture
async def client(nats_server: EmbeddedNats) -> AsyncIterator[KernelClient]:
    client = await _kernel_client(nats_server.url)
    yield client
    if not client.is_closed:
        await client.close()


async def _received(client: Any, subject: str, count: int) -> tuple[list[bytes], Any]:
    """A subscription on ``subject``; the list fills as messages come, the event when ``count``
    have."""
    got: list[bytes] = []
    done = asyncio.Event()

    async def take(message: Any) -> None:
        got.append(message.data)
        if len(got) == count:
            done.set()

    await client.subscribe(subject, cb=take)
    await server_caught_up(client)
    return got, done


async def test_publishes_of_one_iteration_arrive_in_order_in_one_write(
    client: KernelClient, nats_server: EmbeddedNats
) -> None:
    listener = await _kernel_client(nats_server.url)
    try:
        got, done = await _received(listener, "soon.order", 300)
        writes: list[int] = []
        writelines = client._transport.writelines

        def counted(lines: Any) -> Any:
            writes.append(len(lines))
            return writelines(lines)

        client._transport.writelines = counted  # type: ignore[method-assign]
        for i in range(200):  # nothing here yields to the loop
            await publish_block(client, "soon.order", str(i).encode(), None)
        for i in range(200, 300):  # nats-py's own publish takes the same path
            await client.publish("soon.order", str(i).encode())
        assert writes == []  # nothing written yet: all of it waits for the iteration's end
        await asyncio.wait_for(done.wait(), TIMEOUT)

        assert got == [str(i).encode() for i in range(300)]
        assert writes == [300]
    finally:
        await listener.close()


async def test_publishes_made_while_disconnected_go_out_after_the_reconnect(
    tmp_path: Path,
) -> None:
    port, store = free_port(), tmp_path / "nats"
    server = EmbeddedNats(port, store, server_name="webos-write-soon")
    server.start()
    lost, back = asyncio.Event(), asyncio.Event()

    async def on_lost() -> None:
        lost.set()

    async def on_back() -> None:
        back.set()

    client = await _kernel_client(
        server.url,
        reconnect_time_wait=0.1,
        max_reconnect_attempts=-1,
        disconnected_cb=on_lost,
        reconnected_cb=on_back,
    )
    try:
        got, done = await _received(client, "soon.kept", 20)
        server.stop()
        await asyncio.wait_for(lost.wait(), TIMEOUT)
        for i in range(20):
            await publish_block(client, "soon.kept", str(i).encode(), None)
        await asyncio.sleep(0)  # the scheduled write finds no connection: the data is kept
        assert client._pending_data_size > 0

        server = EmbeddedNats(port, store, server_name="webos-write-soon")
        server.start()
        await asyncio.wait_for(back.wait(), TIMEOUT)
        await asyncio.wait_for(done.wait(), TIMEOUT)

        assert got == [str(i).encode() for i in range(20)]
    finally:
        await client.close()
        server.stop()


async def test_the_pending_size_limit_makes_a_publisher_wait_for_the_socket(
    nats_server: EmbeddedNats,
) -> None:
    limit = 64 * 1024
    client = await _kernel_client(nats_server.url, pending_size=limit)
    listener = await _kernel_client(nats_server.url)
    body = b"x" * 10_000
    count = 300  # about 3 MB: far over the limit within one iteration
    try:
        got, done = await _received(listener, "soon.limit", count)
        most = 0
        for i in range(count):
            await publish_block(client, "soon.limit", str(i).encode() + body, None)
            most = max(most, client._pending_data_size)
        await asyncio.wait_for(done.wait(), TIMEOUT)

        assert [data[: -len(body)] for data in got] == [str(i).encode() for i in range(count)]
        assert most <= limit + len(body) + 100  # never more than one message over the limit
    finally:
        await client.close()
        await listener.close()
