"""Live settings under the generated NATS permissions: a standalone module reads and applies its
own saved settings; another module cannot read them (they hold secrets)."""

from __future__ import annotations

import asyncio

import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.livesettings import direct_get_subject
from kernel.testing import RunningKernel
from tests.security.conftest import STANDALONE, Deployment
from tests.security.hostile import intruder


async def _motto_becomes(gateway: RunningKernel, expected: str) -> None:
    seen = None
    for _ in range(200):  # a failure bound, not a speed requirement
        answer = await gateway.client.get("/api/vault/motto")
        seen = answer.json().get("motto") if answer.status_code == 200 else answer.text
        if seen == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"motto stayed {seen!r}, expected {expected!r}")


async def test_a_module_applies_its_own_settings_and_no_other_module_reads_them(
    deployment: Deployment,
) -> None:
    deployment.harness.sign_in_as("admin")
    gateway = await deployment.harness.start(exclude=STANDALONE)
    async with deployment.module("vault"):
        await _motto_becomes(gateway, "closed")
        saved = await gateway.client.put(
            "/api/system/settings/vault", json={"values": {"motto": "open", "combination": "4321"}}
        )
        assert saved.status_code == 200, saved.text
        await _motto_becomes(gateway, "open")

        async with intruder(deployment.server, "module-spy") as spy:
            with pytest.raises((NoRespondersError, NatsTimeout)):
                await spy.client.request(direct_get_subject("vault"), b"", timeout=1)

    assert await deployment.server.refused("module-spy", "Publish", direct_get_subject("vault"))
    assert deployment.server.violations("module-vault") == []
