"""Requests on the connection's shared reply inbox (``kernel/transport/_requests.py``): each call
gets its own answer, and timeouts, "no responders", headers, a closed connection and a server
restart behave as with nats-py's own ``request``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.testing import free_port
from kernel.transport import EmbeddedNats, request_unless_gone

TIMEOUT = 30.0  # a test that waited this out would fail its assertions


async def test_concurrent_calls_each_get_their_own_answer(connection: Any) -> None:
    async def echo_late(message: Any) -> None:
        # Answered in reverse order of arrival: an answer must find its own caller.
        await asyncio.sleep(0.001 * (50 - int(message.data)))
        await message.respond(b"echo " + message.data)

    # A callback runs its messages one after another: answer each in a task of its own.
    async def answer(message: Any) -> None:
        asyncio.get_running_loop().create_task(echo_late(message))

    await connection.subscribe("inbox.echo", cb=answer)

    replies = await asyncio.gather(
        *(
            request_unless_gone(connection, "inbox.echo", str(i).encode(), timeout=TIMEOUT)
            for i in range(50)
        )
    )

    assert [reply.data for reply in replies] == [f"echo {i}".encode() for i in range(50)]
    assert connection._webos_replies.waiting == {}  # nothing left behind


async def test_a_silent_service_times_out_with_nats_timeout_error(connection: Any) -> None:
    heard: list[Any] = []

    async def silent(message: Any) -> None:
        heard.append(message)

    await connection.subscribe("inbox.silent", cb=silent)

    with pytest.raises(NatsTimeout) as raised:
        await request_unless_gone(connection, "inbox.silent", b"late", timeout=0.2)

    assert isinstance(raised.value, asyncio.TimeoutError)  # what callers catch
    # An answer after the caller gave up goes nowhere; the next call is answered as usual.
    await heard[0].respond(b"too late")

    async def answer(message: Any) -> None:
        await message.respond(b"on time")

    await connection.subscribe("inbox.answers", cb=answer)
    reply = await request_unless_gone(connection, "inbox.answers", b"", timeout=TIMEOUT)
    assert reply.data == b"on time"


async def test_nobody_listening_is_no_responders(connection: Any) -> None:
    with pytest.raises(NoRespondersError):
        await request_unless_gone(connection, "inbox.nobody", b"", timeout=TIMEOUT)


async def test_headers_go_and_come_back(connection: Any) -> None:
    async def answer(message: Any) -> None:
        seen = message.headers["webos-a"]
        await connection.publish(message.reply, b"", headers={"Service-Code": "7", "seen": seen})

    await connection.subscribe("inbox.headers", cb=answer)

    reply = await request_unless_gone(
        connection, "inbox.headers", b"", timeout=TIMEOUT, headers={"webos-a": "one"}
    )
    # A header nats-py rewrites (a value with a line break) goes through nats-py's own request.
    rewritten = await request_unless_gone(
        connection, "inbox.headers", b"", timeout=TIMEOUT, headers={"webos-a": "t\r\nwo"}
    )

    assert reply.headers == {"Service-Code": "7", "seen": "one"}
    assert rewritten.headers == {"Service-Code": "7", "seen": "t  wo"}


async def test_a_closed_connection_refuses_the_call(connection: Any) -> None:
    await connection.close()

    with pytest.raises(ConnectionClosedError):
        await request_unless_gone(connection, "inbox.any", b"", timeout=TIMEOUT)


async def test_calls_are_answered_after_the_server_comes_back(tmp_path: Path) -> None:
    port, store = free_port(), tmp_path / "nats"
    server = EmbeddedNats(port, store, server_name="webos-inbox-restarted")
    server.start()
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    client = await nats.connect(
        server.url,
        reconnect_time_wait=0.1,
        max_reconnect_attempts=-1,
        reconnected_cb=on_reconnect,
    )
    try:

        async def answer(message: Any) -> None:
            await message.respond(b"pong " + message.data)

        await client.subscribe("inbox.ping", cb=answer)
        first = await request_unless_gone(client, "inbox.ping", b"1", timeout=TIMEOUT)

        server.stop()
        server = EmbeddedNats(port, store, server_name="webos-inbox-restarted")
        server.start()
        await asyncio.wait_for(reconnected.wait(), TIMEOUT)
        second = await request_unless_gone(client, "inbox.ping", b"2", timeout=TIMEOUT)

        assert (first.data, second.data) == (b"pong 1", b"pong 2")
    finally:
        await client.close()
        server.stop()
