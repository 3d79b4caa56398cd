"""``request_unless_gone``: a request ends when its module is gone, and only then."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nats.errors import NoRespondersError

from kernel.transport import request_unless_gone

TIMEOUT = 30.0  # the request's own bound: a test that waited it out would fail the assertions


@pytest.fixture
async def connection(connection: Any) -> Any:
    # A wildcard listener that never answers: NATS then cannot say "no responders" by itself.
    await connection.subscribe("bench.>", cb=_ignore)
    return connection


async def _ignore(_: Any) -> None:
    return None


async def test_a_request_ends_when_its_module_is_gone(connection: Any) -> None:
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    asking = asyncio.create_task(
        request_unless_gone(connection, "bench.silent", b"{}", timeout=TIMEOUT, gone=gone)
    )
    await asyncio.sleep(0.05)
    assert not asking.done()

    gone.set_result(None)

    with pytest.raises(NoRespondersError):
        await asyncio.wait_for(asking, TIMEOUT / 2)


class _LeavesAsItAnswers:
    """The real connection, with the module's departure announced in the same step as its answer
    arrives: the departure's callbacks run after the request has returned."""

    def __init__(self, connection: Any, gone: asyncio.Future[None]) -> None:
        self.connection = connection
        self.gone = gone

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        reply = await self.connection.request(*args, **kwargs)
        self.gone.set_result(None)
        return reply


async def test_an_answered_request_is_not_cut_off_by_a_departure_after_it(connection: Any) -> None:
    async def answer(message: Any) -> None:
        await message.respond(b"pong")

    await connection.subscribe("answers.ping", cb=answer)
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    leaving = _LeavesAsItAnswers(connection, gone)

    reply = await request_unless_gone(leaving, "answers.ping", b"", timeout=TIMEOUT, gone=gone)
    await asyncio.sleep(0.05)  # the departure's callbacks run now: the caller goes on uncancelled

    assert reply.data == b"pong"


async def test_a_cancel_from_elsewhere_is_not_turned_into_no_responders(connection: Any) -> None:
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    asking = asyncio.create_task(
        request_unless_gone(connection, "bench.silent", b"{}", timeout=TIMEOUT, gone=gone)
    )
    await asyncio.sleep(0.05)

    asking.cancel()  # the caller gave up (its own deadline, a client that went away)
    gone.set_result(None)

    with pytest.raises(asyncio.CancelledError):
        await asking
