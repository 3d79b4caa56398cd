"""The bus on a real nats-server: delivery, validation, headers, queue groups, broadcast."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import nats
import pytest
from pydantic import BaseModel

from kernel.bus import Bus, BusNotConnected, Event, InvalidSubject, normalize_subject, on
from kernel.context import current_traceparent
from kernel.testing import server_caught_up
from kernel.transport import EmbeddedNats, PayloadTooLarge


class LoggedIn(BaseModel):
    user_id: int
    email: str


async def eventually(check: Callable[[], bool], what: str) -> None:
    for _ in range(250):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def buses(nats_server: EmbeddedNats) -> AsyncIterator[Callable[..., Bus]]:
    made: list[Bus] = []

    async def make(*handlers: tuple[str, Callable]) -> Bus:
        bus = Bus()
        for module, func in handlers:
            for subscription in func.__webos_events__:
                bus.add_handler(module, func, subscription)
        await bus.connect(nats_server.url, client_name="test")
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


async def test_payload_is_validated_into_the_declared_model(buses) -> None:
    received: list[tuple[LoggedIn, Event]] = []

    @on("user.logged_in")
    async def handler(login: LoggedIn, event: Event) -> None:
        received.append((login, event))

    bus = await buses(("audit", handler))
    event_id = await bus.emit("user.logged_in", {"user_id": 7, "email": "a@b.c"}, source="auth")

    await eventually(lambda: received, "the event")
    login, event = received[0]
    assert login == LoggedIn(user_id=7, email="a@b.c")
    assert (event.id, event.subject, event.source) == (event_id, "user.logged_in", "auth")


async def test_colon_form_is_mapped_to_dots(buses) -> None:
    received: list[dict] = []

    @on("user:logged_in")
    async def handler(payload: dict) -> None:
        received.append(payload)

    bus = await buses(("audit", handler))
    await bus.emit("user:logged_in", {"user_id": 1})
    await eventually(lambda: received == [{"user_id": 1}], "the colon-form event")


async def test_wildcards_match_one_token_or_the_rest(buses) -> None:
    star: list[str] = []
    rest: list[str] = []

    @on("user.*")
    async def one(event: Event) -> None:
        star.append(event.subject)

    @on("user.>")
    async def many(event: Event) -> None:
        rest.append(event.subject)

    bus = await buses(("audit", one), ("audit", many))
    await bus.emit("user.created", {})
    await bus.emit("user.profile.updated", {})
    await eventually(lambda: len(rest) == 2, "both events on user.>")
    assert star == ["user.created"]


async def test_plain_nats_subscriber_sees_plain_json_and_metadata_headers(
    buses, nats_server: EmbeddedNats
) -> None:
    client = await nats.connect(nats_server.url)
    seen = []

    async def keep(msg) -> None:
        seen.append(msg)

    await client.subscribe("order.placed", cb=keep)
    await server_caught_up(client)
    bus = await buses()
    token = current_traceparent.set("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    try:
        before = datetime.now(UTC)
        event_id = await bus.emit("order.placed", {"order": 1}, source="shop")
        after = datetime.now(UTC)
    finally:
        current_traceparent.reset(token)
    await eventually(lambda: seen, "the raw message")
    await client.close()
    msg = seen[0]
    assert msg.data == b'{"order":1}'
    assert msg.headers["webos-event-id"] == event_id
    assert msg.headers["Nats-Msg-Id"] == event_id
    # One id per event: FastStream consumers read the same one as the message's correlation id.
    assert msg.headers["correlation_id"] == event_id
    assert msg.headers["webos-source"] == "shop"
    assert msg.headers["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c")
    # ISO 8601 in UTC, to the microsecond: events emitted within one second keep their order.
    assert before <= datetime.fromisoformat(msg.headers["webos-time"]) <= after


async def test_invalid_payload_is_rejected_counted_and_bus_keeps_going(
    buses, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[LoggedIn] = []

    @on("user.logged_in")
    async def handler(login: LoggedIn) -> None:
        received.append(login)

    bus = await buses(("audit", handler))
    bad_id = await bus.emit("user.logged_in", {"user_id": "not a number"})
    await bus.emit("user.logged_in", {"user_id": 2, "email": "x@y.z"})
    await eventually(lambda: received, "the valid event after the bad one")
    stats = bus.stats()
    assert (stats["rejected"], stats["handled"]) == (1, 1)
    rejection = next(r for r in caplog.records if "event rejected" in r.getMessage())
    assert bad_id in rejection.getMessage()
    assert "user.logged_in" in rejection.getMessage()
    assert "user_id" in rejection.getMessage()


async def test_handler_exception_is_logged_counted_and_bus_keeps_going(
    buses, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    @on("job.run")
    async def flaky(payload: dict) -> None:
        calls.append(payload["n"])
        if payload["n"] == 1:
            raise RuntimeError("boom")

    bus = await buses(("worker", flaky))
    await bus.emit("job.run", {"n": 1})
    await bus.emit("job.run", {"n": 2})
    await eventually(lambda: calls == [1, 2], "both calls")
    await eventually(lambda: bus.stats()["handled"] == 1, "the second call to finish")
    assert bus.stats()["failed"] == 1
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_replicas_of_a_module_share_events(buses) -> None:
    handled: list[str] = []

    @on("shop.sold")
    async def count(event: Event) -> None:
        handled.append(event.id)

    first = await buses(("shop", count))
    await buses(("shop", count))
    ids = [await first.emit("shop.sold", {"i": i}) for i in range(40)]
    await eventually(lambda: len(handled) >= 40, "40 deliveries")
    await asyncio.sleep(0.2)
    assert sorted(handled) == sorted(ids), "each event handled exactly once across replicas"


async def test_broadcast_reaches_every_instance(buses) -> None:
    handled: list[str] = []

    @on("cache.flush", broadcast=True)
    async def flush(event: Event) -> None:
        handled.append(event.id)

    first = await buses(("cache", flush))
    await buses(("cache", flush))
    event_id = await first.emit("cache.flush", {})
    await eventually(lambda: handled == [event_id, event_id], "delivery to both instances")


async def test_different_modules_each_get_the_event(buses) -> None:
    handled: list[str] = []

    @on("greeter.greeted")
    async def note(event: Event) -> None:
        handled.append(event.id)

    bus = await buses(("audit", note), ("stats", note))
    await bus.emit("greeter.greeted", {})
    await eventually(lambda: len(handled) == 2, "one delivery per module")


async def test_emit_needs_a_connection_and_a_concrete_subject(buses) -> None:
    with pytest.raises(BusNotConnected):
        await Bus().emit("a.b", {})
    bus = await buses()
    with pytest.raises(InvalidSubject):
        await bus.emit("user.*", {})
    with pytest.raises(InvalidSubject):
        await bus.emit("user..x", {})


def test_subject_grammar() -> None:
    assert normalize_subject("user:logged_in") == "user.logged_in"
    assert normalize_subject("user.>", allow_wildcards=True) == "user.>"
    with pytest.raises(InvalidSubject, match="last token"):
        normalize_subject("a.>.b", allow_wildcards=True)
    with pytest.raises(InvalidSubject):
        normalize_subject("has space")


def test_handlers_must_be_async() -> None:
    with pytest.raises(TypeError, match="async def"):

        @on("x.y")
        def sync_handler(payload: dict) -> None: ...


async def test_an_event_larger_than_the_servers_max_payload_is_refused_to_the_emitter(
    buses,
) -> None:
    received: list[Event] = []

    @on("big.thing")
    async def handler(event: Event) -> None:
        received.append(event)

    bus = await buses(("audit", handler))
    limit = bus.nats.max_payload  # what the server announced (1 MiB by default)

    with pytest.raises(PayloadTooLarge, match="the NATS server accepts at most"):
        await bus.emit("big.thing", {"blob": "x" * (limit + 1)})
    # The body alone fits; with the event's headers it would not, and nats-py would send it
    # and the server close the connection.
    just_under = "x" * (limit - len(b'{"blob":""}') - 10)
    with pytest.raises(PayloadTooLarge, match="with its headers"):
        await bus.emit("big.thing", {"blob": just_under})
    await bus.emit("big.thing", {"blob": "small"})

    # Delivered in order on one connection: the first event to arrive is the small one.
    await eventually(lambda: received, "the small event")
    assert [event.json() for event in received] == [{"blob": "small"}]
    assert bus.connected and bus.published == 1
