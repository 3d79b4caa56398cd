"""A module writes dead letters only for its own consumers, and a letter the server does not back
replays anonymous: a forged letter cannot bring back an identity its module once handled."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kernel.auth import IDENTITY_HEADER, Principal, SecuritySubsystem, current_principal
from kernel.bus import EVENTS_STREAM, DeadLetter, list_dead_letters, replay_dead_letter
from tests.security.conftest import STANDALONE, Deployment
from tests.security.hostile import intruder

ADA = Principal(id="ada", kind="user", roles=frozenset({"user"}))


async def _until(check: Any, what: str) -> Any:
    for _ in range(200):  # a failure bound, not a speed requirement
        if found := await check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_forged_letter_is_refused_or_replays_anonymous(deployment: Deployment) -> None:
    gateway = await deployment.harness.start(exclude=STANDALONE, durable_max_deliver=1)
    js = gateway.kernel.bus.nats.jetstream()
    async with deployment.module("ledger", WEBOS_DURABLE_MAX_DELIVER="1"):
        saw = await gateway.subscribe("ledger.saw")
        acting = current_principal.set(ADA)
        try:
            await gateway.kernel.bus.emit("vault.opened", {"door": "back"})  # ledger fails on it
        finally:
            current_principal.reset(acting)
        assert (await saw.next()).json()["as"] == "ada"

        async def letters(count: int) -> list[DeadLetter] | None:
            found = await list_dead_letters(js)
            return found if len(found) >= count else None

        [genuine] = await _until(lambda: letters(1), "the genuine letter")
        seq = (
            int(genuine.headers.get("webos-dlq-stream-seq", 0) or 0)
            or (await js.consumer_info(EVENTS_STREAM, genuine.consumer)).delivered.stream_seq
        )
        stored = await js.get_msg(EVENTS_STREAM, seq=seq)
        handled = stored.headers[IDENTITY_HEADER]  # ada's identity, which the ledger handled

        async with intruder(
            deployment.server, "module-ledger", inbox_prefix="_INBOX_module-ledger"
        ) as ledger:
            # Its own consumer: the server takes the letter, but does not back it.
            await ledger.publish(
                f"webos.dlq.{genuine.consumer}",
                json.dumps({"door": "back", "forged": True}).encode(),
                headers={
                    IDENTITY_HEADER: handled,
                    "webos-original-subject": "vault.opened",
                    "webos-dlq-stream-seq": str(seq),
                },
            )
            await ledger.publish("webos.dlq.vault__anything", b"{}")  # someone else's: refused
        async with intruder(deployment.server, "module-spy") as spy:
            await spy.publish(f"webos.dlq.{genuine.consumer}", b"{}")  # not its consumer

        server = deployment.server
        assert await server.refused("module-ledger", "Publish", "webos.dlq.vault__anything")
        assert await server.refused("module-spy", "Publish", f"webos.dlq.{genuine.consumer}")
        both = await _until(lambda: letters(2), "the forged letter")
        [forged] = [letter for letter in both if not letter.trusted]
        assert forged.doubt == f"its payload is not event {seq}'s"

        reattest = gateway.kernel.get(SecuritySubsystem).replay_reattester()
        await replay_dead_letter(js, forged.id, reattest=reattest)
        assert (await saw.next()).json() == {"door": "back", "forged": True, "as": "anonymous"}
        await replay_dead_letter(js, genuine.id, reattest=reattest)
        assert (await saw.next()).json() == {"door": "back", "as": "ada"}


async def test_a_module_cannot_widen_what_its_consumer_reads(deployment: Deployment) -> None:
    """The gateway sets each consumer's filter from the code; a module setting its own (or
    making WEBOS_EVENTS capture more) could read other modules' events, or vouch for a letter."""
    gateway = await deployment.harness.start(exclude=STANDALONE)
    js = gateway.kernel.bus.nats.jetstream()
    [consumer] = [info.name for info in await js.consumers_info(EVENTS_STREAM)]
    widened = json.dumps({"config": {"durable_name": consumer, "filter_subject": ">"}}).encode()
    async with intruder(
        deployment.server, "module-ledger", inbox_prefix="_INBOX_module-ledger"
    ) as ledger:
        await ledger.publish(f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.{consumer}", widened)
        await ledger.publish(f"$JS.API.CONSUMER.DURABLE.CREATE.{EVENTS_STREAM}.{consumer}", widened)
        await ledger.publish(f"$JS.API.STREAM.UPDATE.{EVENTS_STREAM}", b"{}")

    server = deployment.server
    for subject in (
        f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.{consumer}",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{EVENTS_STREAM}.{consumer}",
        f"$JS.API.STREAM.UPDATE.{EVENTS_STREAM}",
    ):
        assert await server.refused("module-ledger", "Publish", subject)
    info = await js.consumer_info(EVENTS_STREAM, consumer)
    assert (info.config.filter_subjects or [info.config.filter_subject])[0] == "vault.opened"
