"""What an event says about itself is believed only as far as the manifests and NATS rights
back it: its source, its original subject, and which subjects a wildcard handler gets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kernel.testing import KernelHarness, write_module

RECORDER = """
from kernel import Event, on, registry

@on(">")
async def everything(event: Event) -> None:
    registry.get("seen").append((event.subject, event.source))
"""
SERVICES = """
from kernel import service

@service("seen")
def seen() -> list:
    return []
"""


async def test_sources_subjects_and_internal_traffic(webos: KernelHarness, tmp_path: Path) -> None:
    modules = tmp_path / "m"
    write_module(modules, "shop", {}, manifest='name = "shop"\nemits = ["shop.sold"]\n')
    write_module(modules, "till", {}, manifest='name = "till"\nemits = ["till.>"]\n')
    write_module(modules, "watcher", {"events.py": RECORDER, "services.py": SERVICES})
    app = await webos.start(["watcher"], modules_path=modules)
    seen = app.kernel.registry.get("seen")

    async def publish(subject: str, **headers: str) -> None:
        await app.nats.publish(subject, b"{}", headers=headers or None)

    await publish("shop.sold", **{"webos-source": "till"})  # till never emits shop.*
    await publish("shop.sold", **{"webos-source": "shop"})
    await publish("till.opened", **{"webos-original-subject": "shop.sold"})
    await publish("webos.http.shop", **{"webos-source": "shop"})  # internal: not an event
    await publish("misc.thing", **{"webos-source": "cli"})  # nobody declares misc.*
    await publish("misc.thing", **{"webos-source": "shop"})  # a module's name off its subjects
    await publish("end.of.test")
    await app.nats.flush()
    for _ in range(500):  # a bound on failure, not a timing
        if seen and seen[-1][0] == "end.of.test":
            break
        await asyncio.sleep(0.01)

    events = [entry for entry in seen if not entry[0].startswith("webos.node.")]  # heartbeats
    assert events == [
        ("shop.sold", None),
        ("shop.sold", "shop"),
        ("till.opened", None),
        ("misc.thing", "cli"),
        ("misc.thing", None),
        ("end.of.test", None),
    ]


WHO = """
from kernel import on, registry
from kernel.auth import current_principal

@on("desk.noted")
async def noted(payload: dict) -> None:
    registry.get("seen").append(current_principal.get().id)
"""


async def test_a_captured_identity_stops_counting_after_its_lifetime(
    webos: KernelHarness, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from kernel.auth import (
        IDENTITY_HEADER,
        IDENTITY_TTL,
        Principal,
        SecuritySubsystem,
        sign_identity,
    )

    modules = tmp_path / "m"
    write_module(modules, "desk", {"events.py": WHO, "services.py": SERVICES})
    app = await webos.start(["desk"], modules_path=modules)
    key = app.kernel.get(SecuritySubsystem).signing.identity_private_key
    ada = Principal(id="ada", kind="user", roles=frozenset({"user"}))
    now = datetime.now(UTC)
    fresh = sign_identity(ada, key)
    # What a process that handled one of ada's messages a while ago still holds.
    captured = sign_identity(ada, key, now=now - IDENTITY_TTL - timedelta(seconds=15))

    for token in (fresh, captured):
        await app.nats.publish("desk.noted", b"{}", headers={IDENTITY_HEADER: token})
    seen = app.kernel.registry.get("seen")
    for _ in range(500):  # a bound on failure, not a timing
        if len(seen) == 2:
            break
        await asyncio.sleep(0.01)
    assert seen == ["ada", "anonymous"]
