"""Requests on one shared reply inbox per connection, and a request that gives up as soon as
nobody is left to answer it.

**Shared inbox.** nats-py's ``Client.request`` hands each answer through its inbox
subscription's queue to a task that runs a callback, which resolves the caller's future, itself
wrapped in ``asyncio.wait_for``: two task switches and a timeout context per call on the path of
every service call and forwarded HTTP request. :class:`_Replies` keeps one wildcard subscription
per connection (``<inbox prefix>.<random>.*``, opened on the first request, opened again if the
connection dropped it) and resolves the caller's future as nats-py reads the answer, with one
``call_later`` timer per call. The semantics are nats-py's: the same reply subjects under the
connection's inbox prefix, the same header parsing (nats-py's own, or ``KernelClient``'s), a
"no responders" status answer raised as ``NoRespondersError``, a timeout as nats-py's
``TimeoutError``, a closed or draining connection refused with nats-py's errors.

**Gone.** NATS answers "no responders" only when no subscription at all took the request. A
wildcard subscription (a module's ``@on(">")`` handler, ``nats sub '>'``, a ``webos events tail``)
also takes it, so for a module process that died the caller would wait out the whole
``WEBOS_REQUEST_TIMEOUT``. The node table knows better: ``gone`` is done once no live node runs the
module (``kernel.contracts.Instances``), and the request ends then, with the same
``NoRespondersError``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nats.aio.client import Client
from nats.aio.client import _validate_subject as validate_subject
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.transport._direct import deliver_directly
from kernel.transport._publish import header_block, publish_block

#: The status nats-server answers a request with when no subscription took it.
_NO_RESPONDERS = "503"
_ATTRIBUTE = "_webos_replies"


class _Replies:
    """The shared reply inbox of one connection: a reply subject -> the caller's future.

    Its subscription hands each answer over with :func:`deliver_directly`, so an answer
    resolves its caller's future in the step nats-py reads it (no queue, no subscription task)."""

    def __init__(self, connection: Client) -> None:
        self.connection = connection
        self.waiting: dict[str, asyncio.Future[Any]] = {}
        self.prefix = ""
        self.subscription: Any = None
        self._sent = 0
        self._opening = asyncio.Lock()

    def is_open(self) -> bool:
        subscription = self.subscription
        # A closed connection forgets its subscriptions; a reconnect replays them (ours too).
        return subscription is not None and (
            self.connection._subs.get(subscription._id) is subscription
        )

    async def open(self) -> None:
        async with self._opening:  # many first calls at once: one subscription
            if self.is_open():
                return
            prefix = f"{self.connection.new_inbox()}."
            subscription = await self.connection.subscribe(f"{prefix}*")
            deliver_directly(subscription, self._answer)
            self.prefix = prefix
            self.subscription = subscription

    def reply_subject(self) -> str:
        self._sent += 1
        return f"{self.prefix}{self._sent:x}"

    def _answer(self, message: Any) -> None:
        future = self.waiting.pop(message.subject, None)
        if future is not None and not future.done():  # a late answer's caller has gone on
            future.set_result(message)


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(NatsTimeout())


def _cut_off(future: asyncio.Future[Any]) -> Any:
    def cut(_: asyncio.Future[None]) -> None:
        if not future.done():  # an answer that came first stands
            future.set_exception(NoRespondersError())

    return cut


async def request(
    connection: Client,
    subject: str,
    payload: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    gone: asyncio.Future[None] | None = None,
) -> Any:
    """nats-py's ``connection.request(...)`` on the connection's shared inbox (see the module
    docstring); ``NoRespondersError`` as well once ``gone`` is done."""
    if not connection._skip_subject_validation:
        validate_subject(subject)
    replies: _Replies | None = getattr(connection, _ATTRIBUTE, None)
    if replies is None:
        replies = _Replies(connection)
        setattr(connection, _ATTRIBUTE, replies)
    if not replies.is_open():
        await replies.open()
    block = None
    if headers is not None:
        block = header_block(headers)
        if block is None:  # a header nats-py writes its own way: let it send the request
            return await _through_request(
                connection, subject, payload, timeout=timeout, headers=headers, gone=gone
            )
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    reply = replies.reply_subject()
    waiting = replies.waiting
    waiting[reply] = future
    timer = loop.call_later(timeout, _expire, future)
    cut = None
    if gone is not None:
        cut = _cut_off(future)
        gone.add_done_callback(cut)
    try:
        await publish_block(connection, subject, payload, block, reply)
        message = await future
    except BaseException:
        if not future.done():
            future.cancel()
        elif not future.cancelled():
            future.exception()  # retrieved: asyncio need not log it
        raise
    finally:
        timer.cancel()
        waiting.pop(reply, None)
        if cut is not None:
            gone.remove_done_callback(cut)  # type: ignore[union-attr]
    found = message.headers
    if found and found.get("Status") == _NO_RESPONDERS:
        raise NoRespondersError
    return message


async def request_unless_gone(
    connection: Any,
    subject: str,
    payload: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    gone: asyncio.Future[None] | None = None,
) -> Any:
    """``connection.request(...)``, or ``NoRespondersError`` once ``gone`` is done."""
    if gone is not None and gone.done():
        raise NoRespondersError
    if isinstance(connection, Client):
        return await request(
            connection, subject, payload, timeout=timeout, headers=headers, gone=gone
        )
    return await _through_request(
        connection, subject, payload, timeout=timeout, headers=headers, gone=gone
    )


async def _through_request(
    connection: Any,
    subject: str,
    payload: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None,
    gone: asyncio.Future[None] | None,
) -> Any:
    """Anything else with nats-py's ``request`` (a stand-in in tests): cut off by cancelling."""
    if gone is None:
        return await connection.request(subject, payload, timeout=timeout, headers=headers)
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("request_unless_gone must run in a task")
    waiting = True
    cut = False

    def cut_off(_: asyncio.Future[None]) -> None:
        nonlocal cut
        if waiting:  # a callback queued before the answer came must not cancel what follows
            cut = True
            task.cancel()

    gone.add_done_callback(cut_off)
    try:
        return await connection.request(subject, payload, timeout=timeout, headers=headers)
    except asyncio.CancelledError:
        if cut and task.uncancel() == 0:  # ours alone: a cancel from elsewhere goes on
            raise NoRespondersError from None
        raise
    finally:
        waiting = False
        gone.remove_done_callback(cut_off)
