"""System views: nodes, the live event stream and the dead letters (services: ``_services.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage

from kernel.auth import CurrentPrincipal
from kernel.bus import (
    Bus,
    DeadLetterNotFound,
    DeadLetterRefused,
    InvalidSubject,
    Reattest,
    get_dead_letter,
    list_dead_letters,
    normalize_subject,
    redacted,
    replay_dead_letter,
    watch_filter,
)
from kernel.console._contrib import DLQ_REPLAY, SYSTEM_ADMIN, SYSTEM_READ
from kernel.console._pages import Catalogue
from kernel.console._shell import allowed, html, page, render
from kernel.nodes import NodeTable
from kernel.transport import is_internal_subject

READ = {"console_permission": SYSTEM_READ}
REPLAY = {"console_permission": DLQ_REPLAY}
#: An event stream ends after this long; the browser's EventSource reconnects by itself.
STREAM_LIFETIME = 300.0
PING_EVERY = 15.0
QUEUE_LIMIT = 500


def _problem(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


# -- nodes -------------------------------------------------------------------------------


@get("/nodes", include_in_schema=False, opt=READ)
async def nodes_page(
    request: Request[Any, Any, Any], catalog: Catalogue, principal: CurrentPrincipal
) -> Response[str]:
    return page(request, catalog, principal, "nodes.html", title="Nodes", active="nodes")


@get("/nodes/table", include_in_schema=False, opt=READ)
async def nodes_table(node_table: NamedDependency[NodeTable]) -> Response[str]:
    """The node table, polled by the page every two seconds."""
    try:
        nodes = node_table.nodes()  # the gateway first
        error = None
    except Exception as problem:
        nodes, error = [], _problem(problem)
    return html(render("nodes_table.html", nodes=nodes, error=error, now=time.time()))


# -- events -------------------------------------------------------------------------------------


@get("/events", include_in_schema=False, opt=READ)
async def events_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    subject: FromQuery[str] = ">",
    internal: FromQuery[bool] = False,
) -> Response[str]:
    return page(
        request,
        catalog,
        principal,
        "events.html",
        title="Events",
        active="events",
        subject=subject,
        internal=internal,
    )


def event_message(msg: Any) -> dict[str, Any]:
    """One message as the Events view shows it (identities and credentials redacted)."""
    data: bytes = msg.data or b""
    try:
        payload: Any = json.loads(data) if data else None
    except ValueError:
        payload = data.decode("utf-8", errors="replace")
    return {
        "subject": msg.subject,
        "headers": redacted(msg.headers),
        "payload": payload,
        "size": len(data),
        "received": time.time(),
    }


@get("/events/stream", include_in_schema=False, opt=READ)
async def events_stream(
    bus: NamedDependency[Bus],
    console_closing: NamedDependency[asyncio.Event],
    principal: CurrentPrincipal,
    subject: FromQuery[str] = ">",
    internal: FromQuery[bool] = False,
) -> Response[Any]:
    """Server-sent events: the events on ``subject``. Kernel subjects show only if asked for (by
    name, or with the view's "Kernel traffic" toggle, ``internal``); internal ones
    (``kernel.bus._watch``) only if asked for by an administrator, the same two ways."""
    try:
        wanted = normalize_subject(subject.strip(), allow_wildcards=True)
    except InvalidSubject as error:
        return html(render("error.html", detail=str(error)), status_code=400)
    admin = allowed(principal, SYSTEM_ADMIN)
    if is_internal_subject(wanted) and not admin:
        detail = f"{wanted} is an internal subject: watching it needs {SYSTEM_ADMIN}"
        return html(render("error.html", detail=detail), status_code=403)
    shown = watch_filter(wanted, internal_allowed=admin, everything=internal)
    nats = bus.nats
    closing = console_closing

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_LIMIT)
        dropped = 0

        async def receive(msg: Any) -> None:
            nonlocal dropped
            if not shown(msg.subject):
                return
            try:
                queue.put_nowait(msg)
            except asyncio.QueueFull:
                dropped += 1

        subscription = await nats.subscribe(wanted, cb=receive)
        try:
            yield ServerSentEventMessage(event="ready", data=json.dumps({"subject": wanted}))
            ends = time.monotonic() + STREAM_LIFETIME
            last = time.monotonic()
            while not closing.is_set() and time.monotonic() < ends:
                try:
                    msg = await asyncio.wait_for(queue.get(), 1.0)
                except TimeoutError:
                    if time.monotonic() - last > PING_EVERY:
                        last = time.monotonic()
                        yield ServerSentEventMessage(comment="ping")
                    continue
                last = time.monotonic()
                yield ServerSentEventMessage(event="bus", data=json.dumps(event_message(msg)))
                if dropped:
                    yield ServerSentEventMessage(event="dropped", data=str(dropped))
                    dropped = 0
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    return ServerSentEvent(stream(), headers={"Cache-Control": "no-store"})


# -- dead letters -------------------------------------------------------------------------------


@get("/dlq", include_in_schema=False, opt=READ)
async def dlq_page(
    request: Request[Any, Any, Any], catalog: Catalogue, principal: CurrentPrincipal
) -> Response[str]:
    return page(
        request,
        catalog,
        principal,
        "dlq.html",
        title="Dead letters",
        active="dlq",
        can_replay=allowed(principal, DLQ_REPLAY),
    )


async def _dlq_list(bus: Bus, principal: Any, notice: str | None = None) -> Response[str]:
    try:
        letters = await list_dead_letters(bus.nats.jetstream(), limit=200)
        error = None
    except Exception as problem:
        letters, error = [], _problem(problem)
    return html(
        render(
            "dlq_list.html",
            letters=letters,
            error=error,
            notice=notice,
            can_replay=allowed(principal, DLQ_REPLAY),
        )
    )


@get("/dlq/list", include_in_schema=False, opt=READ)
async def dlq_list(bus: NamedDependency[Bus], principal: CurrentPrincipal) -> Response[str]:
    return await _dlq_list(bus, principal)


@get("/dlq/{letter_id:int}", include_in_schema=False, opt=READ)
async def dlq_detail(bus: NamedDependency[Bus], letter_id: FromPath[int]) -> Response[str]:
    try:
        letter = await get_dead_letter(bus.nats.jetstream(), letter_id)
    except DeadLetterNotFound:
        return html(render("error.html", detail=f"No dead letter {letter_id}."), status_code=404)
    return html(render("dlq_detail.html", letter=letter))


@post("/dlq/{letter_id:int}/replay", include_in_schema=False, opt=REPLAY, status_code=200)
async def dlq_replay(
    bus: NamedDependency[Bus],
    principal: CurrentPrincipal,
    reattest: NamedDependency[Reattest | None],
    letter_id: FromPath[int],
) -> Response[str]:
    try:
        letter = await replay_dead_letter(bus.nats.jetstream(), letter_id, reattest=reattest)
        notice = f"Replayed dead letter {letter.id} ({letter.subject}) to {letter.handler}."
        if not letter.trusted:
            notice += " It was untrusted, so it ran anonymous."
    except DeadLetterNotFound:
        notice = f"Dead letter {letter_id} is gone (already replayed?)."
    except DeadLetterRefused as refused:
        notice = str(refused)
    return await _dlq_list(bus, principal, notice)


@post("/dlq/replay-all", include_in_schema=False, opt=REPLAY, status_code=200)
async def dlq_replay_all(
    bus: NamedDependency[Bus],
    principal: CurrentPrincipal,
    reattest: NamedDependency[Reattest | None],
) -> Response[str]:
    js = bus.nats.jetstream()
    done, refused = 0, 0
    for letter in await list_dead_letters(js, limit=100_000):
        try:
            await replay_dead_letter(js, letter.id, reattest=reattest)
            done += 1
        except DeadLetterNotFound:
            continue
        except DeadLetterRefused:
            refused += 1
    notice = f"Replayed {done} dead letter(s)."
    if refused:
        notice += f" Kept {refused} untrusted letter(s): their handler does not take the subject."
    return await _dlq_list(bus, principal, notice)


view_handlers = [
    nodes_page,
    nodes_table,
    events_page,
    events_stream,
    dlq_page,
    dlq_list,
    dlq_detail,
    dlq_replay,
    dlq_replay_all,
]
