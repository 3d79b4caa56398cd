"""A module with a ``>`` handler hears events, and none of the kernel's traffic: not forwarded
HTTP requests (bearer tokens, request bodies), not replies (file contents, service results)."""

from __future__ import annotations

import asyncio

from kernel import registry
from kernel.transport import is_internal_subject
from tests.security.conftest import KEEPER_SECRET, PLANS, STANDALONE, Deployment
from tests.security.hostile import Overheard, intruder


async def _until_heard(overheard: Overheard, subject: str) -> None:
    for _ in range(100):  # a failure bound, not a speed requirement
        if subject in overheard.subjects:
            return
        await asyncio.sleep(0.05)


async def test_a_wildcard_handler_hears_events_but_no_request_and_no_reply(
    deployment: Deployment,
) -> None:
    async with deployment.module("vault"):
        gateway = await deployment.harness.start(exclude=STANDALONE)
        async with intruder(deployment.server, "module-spy") as spy:
            everything = await spy.listen(">")
            forwarded = await spy.listen("webos.http.>")
            signed_in = gateway.auth_headers(["user"])
            answer = await gateway.client.get("/api/vault/secret", headers=signed_in)
            revealed = await registry.get("vault_keeper").reveal()  # the gateway's proxy call
            await _until_heard(everything, "vault.opened")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"plans": PLANS} and revealed == KEEPER_SECRET
    assert "vault.opened" in everything.subjects  # the subscription works: it hears events
    assert [s for s in everything.subjects if is_internal_subject(s)] == []
    assert forwarded.subjects == []
    # The legitimate processes worked under the same fences without a single refusal.
    assert deployment.server.violations("gateway") == []
    assert deployment.server.violations("module-vault") == []
    token = signed_in["Authorization"].removeprefix("Bearer ").encode()
    for heard in (everything, forwarded):
        assert not heard.contains(token)
        assert not heard.contains(PLANS.encode())
        assert not heard.contains(KEEPER_SECRET.encode())


async def test_subscribing_to_another_modules_requests_is_refused(deployment: Deployment) -> None:
    async with intruder(deployment.server, "module-spy") as spy:
        await spy.listen("webos.http.vault")
        await spy.listen("webos.svc.vault_keeper.*")
        await spy.listen("webos.svc.vault_keeper.*.*")  # every instance's own subjects
        await spy.listen("$JS.API.>")
        await spy.listen("$JS.EVENT.ADVISORY.API")  # the API audit carries answers
        own = await spy.listen("webos.http.spy")  # its own forwarded requests: allowed

    server = deployment.server
    assert await server.refused("module-spy", "Subscription", "webos.http.vault")
    assert await server.refused("module-spy", "Subscription", "webos.svc.vault_keeper.*")
    assert await server.refused("module-spy", "Subscription", "webos.svc.vault_keeper.*.*")
    assert await server.refused("module-spy", "Subscription", "$JS.API.>")
    assert await server.refused("module-spy", "Subscription", "$JS.EVENT.ADVISORY.API")
    assert not [line for line in server.violations("module-spy") if "webos.http.spy" in line]
    assert own.messages == []
