"""The Dead letters view says which letters the server backs, and replays them accordingly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from kernel.auth import IDENTITY_HEADER, IDENTITY_TTL, Principal, SecuritySubsystem, sign_identity
from kernel.bus import DLQ_PREFIX, EVENTS_STREAM
from kernel.testing import KernelHarness
from tests.bus._desk import DESK_SETTINGS, caller_of, letters, write_desk

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD

REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"


async def test_replay_from_the_console_runs_as_the_caller_only_when_the_letter_is_backed(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = tmp_path / "mods"
    write_desk(modules)
    (modules / "auth").symlink_to(REPO_MODULES / "auth")
    app = await webos.start(
        ["auth", "desk", "bank"],
        modules_path=modules,
        environ={"WEBOS_ADMIN_EMAIL": ADMIN_EMAIL, "WEBOS_ADMIN_PASSWORD": ADMIN_PASSWORD},
        **DESK_SETTINGS,
    )
    js = app.kernel.bus.nats.jetstream()
    key = app.kernel.get(SecuritySubsystem).signing.identity_private_key
    ada = Principal(id="ada", kind="user", roles=frozenset({"user"}))
    signed_at = datetime.now(UTC) - IDENTITY_TTL + timedelta(seconds=1)
    await js.publish(
        "desk.noted",
        b'{"n": "genuine"}',
        headers={IDENTITY_HEADER: sign_identity(ada, key, now=signed_at)},
    )
    [consumer] = [
        info.name
        for info in await js.consumers_info(EVENTS_STREAM)
        if info.name.startswith("desk__")
    ]
    sniffed = sign_identity(ada, key)
    await js.publish(
        f"{DLQ_PREFIX}.{consumer}",
        b'{"n": "forged"}',
        headers={IDENTITY_HEADER: sniffed, "webos-original-subject": "desk.noted"},
    )
    [genuine] = [letter for letter in await letters(js, 2) if letter.trusted]
    [forged] = [letter for letter in await letters(js, 2) if not letter.trusted]
    client = httpx.AsyncClient(base_url=app.url, timeout=10)
    try:
        signed_in = await client.post(
            "/console/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text
        csrf = {"X-CSRF-Token": client.cookies["webos_csrf"]}

        listed = (await client.get("/console/dlq/list")).text
        assert listed.count(">untrusted</span>") == 1
        detail = (await client.get(f"/console/dlq/{forged.id}")).text
        assert "Untrusted: it names no stored event" in detail
        assert "(redacted)" in detail and sniffed not in detail
        shown = (await client.get(f"/console/dlq/{genuine.id}")).text
        assert "Read back from the event stream" in shown and "(redacted)" in shown

        # The genuine caller's identity has expired by now: the replay re-signs it.
        expired_in = signed_at + IDENTITY_TTL - datetime.now(UTC)
        await asyncio.sleep(max(0.0, expired_in.total_seconds()))
        app.kernel.registry.get("desk").closed = False
        replayed = await client.post(f"/console/dlq/{genuine.id}/replay", headers=csrf)
        assert f"Replayed dead letter {genuine.id} (desk.noted)" in replayed.text
        assert await caller_of(app, "genuine") == "ada"

        replayed = await client.post(f"/console/dlq/{forged.id}/replay", headers=csrf)
        assert "It was untrusted, so it ran anonymous." in replayed.text
        assert await caller_of(app, "forged") == "anonymous"
    finally:
        await client.aclose()
