"""A dead letter is believed only as far as the server backs it: the original event read back
from WEBOS_EVENTS by sequence, taken by the letter's consumer, with the letter's payload."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kernel.auth import IDENTITY_HEADER, IDENTITY_TTL, Principal, SecuritySubsystem, sign_identity
from kernel.bus import (
    DLQ_PREFIX,
    EVENTS_STREAM,
    DeadLetterRefused,
    list_dead_letters,
    replay_dead_letter,
)
from kernel.testing import KernelHarness, RunningKernel
from tests.bus._desk import DESK_SETTINGS, caller_of, letters, write_desk

ADMIN = Principal(id="root", kind="user", roles=frozenset({"admin"}), permissions=frozenset("*"))


@pytest.fixture
async def desk(webos: KernelHarness, tmp_path: Path) -> RunningKernel:
    write_desk(tmp_path / "m")
    return await webos.start(["desk", "bank"], modules_path=tmp_path / "m", **DESK_SETTINGS)


async def _consumer(js: Any) -> str:
    [consumer] = [
        info.name
        for info in await js.consumers_info(EVENTS_STREAM)
        if info.name.startswith("desk__")
    ]
    return consumer


async def test_a_genuine_letter_replays_as_its_caller_judged_at_the_stored_time(
    desk: RunningKernel,
) -> None:
    security = desk.kernel.get(SecuritySubsystem)
    js = desk.kernel.bus.nats.jetstream()
    ada = Principal(id="ada", kind="user", roles=frozenset({"user"}))
    # Valid when the event is stored, expired (leeway 0) a second later.
    signed_at = datetime.now(UTC) - IDENTITY_TTL + timedelta(seconds=1)
    token = sign_identity(ada, security.signing.identity_private_key, now=signed_at)
    await js.publish("desk.noted", b'{"n": "1"}', headers={IDENTITY_HEADER: token})

    [letter] = await letters(js, 1)
    assert letter.trusted and letter.doubt == ""
    assert (letter.subject, letter.module, letter.payload()) == ("desk.noted", "desk", {"n": "1"})
    assert "the desk is closed" in letter.error
    assert letter.shown_headers()[IDENTITY_HEADER] == "(redacted)"
    await asyncio.sleep(max(0.0, (signed_at + IDENTITY_TTL - datetime.now(UTC)).total_seconds()))

    desk.kernel.registry.get("desk").closed = False
    await replay_dead_letter(js, letter.id, reattest=security.replay_reattester())

    assert await caller_of(desk, "1") == "ada"
    assert await list_dead_letters(js) == []


async def test_a_forged_letter_is_untrusted_and_replays_anonymous(desk: RunningKernel) -> None:
    security = desk.kernel.get(SecuritySubsystem)
    js = desk.kernel.bus.nats.jetstream()
    consumer = await _consumer(js)
    sniffed = sign_identity(ADMIN, security.signing.identity_private_key)
    await js.publish(
        f"{DLQ_PREFIX}.{consumer}",
        b'{"n": "forged"}',
        headers={
            IDENTITY_HEADER: sniffed,
            "webos-original-subject": "desk.noted",
            "webos-dlq-stored-at": datetime.now(UTC).isoformat(),
            "webos-dlq-error": "please replay me",
        },
    )

    [letter] = await letters(js, 1)
    assert not letter.trusted
    assert letter.doubt == "it names no stored event"
    assert letter.error == "please replay me"  # shown, as the module's word

    desk.kernel.registry.get("desk").closed = False
    replayed = await replay_dead_letter(js, letter.id, reattest=security.replay_reattester())

    assert not replayed.trusted
    assert await caller_of(desk, "forged") == "anonymous"


async def test_a_letter_pointing_at_someone_elses_event_or_payload_is_not_believed(
    desk: RunningKernel,
) -> None:
    security = desk.kernel.get(SecuritySubsystem)
    js = desk.kernel.bus.nats.jetstream()
    consumer = await _consumer(js)
    token = sign_identity(ADMIN, security.signing.identity_private_key)
    # A stored event the consumer does not take, and one it takes (the admin's, on the desk).
    other = await js.publish("bank.robbed", b'{"n": "x"}', headers={IDENTITY_HEADER: token})
    taken = await js.publish("desk.noted", b'{"n": "2"}', headers={IDENTITY_HEADER: token})
    await letters(js, 1)  # the genuine letter for "2"

    async def forge(seq: int, subject: str, data: bytes) -> None:
        await js.publish(
            f"{DLQ_PREFIX}.{consumer}",
            data,
            headers={"webos-dlq-stream-seq": str(seq), "webos-original-subject": subject},
        )

    await forge(other.seq, "bank.robbed", b'{"n": "x"}')
    await forge(taken.seq, "desk.noted", b'{"n": "altered"}')
    genuine, elsewhere, altered = await letters(js, 3)

    assert genuine.trusted
    assert not elsewhere.trusted
    assert elsewhere.doubt == f"event {other.seq}: its handler does not take 'bank.robbed'"
    assert not altered.trusted and altered.doubt == f"its payload is not event {taken.seq}'s"

    with pytest.raises(DeadLetterRefused):
        await replay_dead_letter(js, elsewhere.id, reattest=security.replay_reattester())
    assert elsewhere.id in [letter.id for letter in await list_dead_letters(js)]  # kept

    desk.kernel.registry.get("desk").closed = False
    await replay_dead_letter(js, altered.id, reattest=security.replay_reattester())
    assert await caller_of(desk, "altered") == "anonymous"
    await replay_dead_letter(js, genuine.id, reattest=security.replay_reattester())
    assert await caller_of(desk, "2") == "root"


async def test_a_letter_without_its_payload_is_believed_only_by_the_payloads_digest(
    desk: RunningKernel,
) -> None:
    js = desk.kernel.bus.nats.jetstream()
    consumer = await _consumer(js)
    taken = await js.publish("desk.noted", b'{"n": "3"}')
    await letters(js, 1)  # the genuine letter (small: it carries the payload)

    async def forge(payload: bytes) -> None:
        await js.publish(
            f"{DLQ_PREFIX}.{consumer}",
            b"",
            headers={
                "webos-dlq-stream-seq": str(taken.seq),
                "webos-original-subject": "desk.noted",
                "webos-dlq-payload-sha256": hashlib.sha256(payload).hexdigest(),
            },
        )

    await forge(b'{"n": "other"}')
    await forge(b'{"n": "3"}')
    _, wrong, right = await letters(js, 3)

    assert not wrong.trusted and wrong.doubt == f"its payload is not event {taken.seq}'s"
    assert wrong.payload_left_out and wrong.payload() is None  # nothing of its own to show
    with pytest.raises(DeadLetterRefused, match="stored without its payload"):
        await replay_dead_letter(js, wrong.id)
    assert wrong.id in [letter.id for letter in await list_dead_letters(js)]  # kept
    assert right.trusted and right.payload() == {"n": "3"}  # the original's, read back
