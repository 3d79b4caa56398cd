"""An identity reaches a process only with the messages it handles, and acts for no longer than
``WEBOS_IDENTITY_TTL`` (the trust model's bound): overheard on an event a ``>`` handler takes,
it works on a service call at once and is anonymous once its lifetime is over."""

from __future__ import annotations

import asyncio
import json
import time

import jwt

from kernel.auth import IDENTITY_HEADER
from tests.security.conftest import STANDALONE, Deployment
from tests.security.hostile import Overheard, intruder

LIFETIME = 3  # seconds, for the test (production: 60)


async def _first(overheard: Overheard) -> object:
    for _ in range(100):  # a failure bound, not a speed requirement
        if overheard.messages:
            return overheard.messages[0]
        await asyncio.sleep(0.05)
    raise AssertionError("nothing overheard")


async def test_an_overheard_identity_acts_only_within_its_lifetime(
    deployment: Deployment,
) -> None:
    # Leeway 0 where identities are judged, so that the lifetime is exact.
    async with deployment.module("vault", WEBOS_JWT_LEEWAY="0"):
        gateway = await deployment.harness.start(
            exclude=STANDALONE, identity_ttl=LIFETIME, jwt_leeway=0
        )
        async with intruder(
            deployment.server, "module-spy", inbox_prefix="_INBOX_module-spy"
        ) as spy:
            heard = await spy.listen("vault.opened")  # spy's `>` handler takes events
            signed_in = gateway.auth_headers(["user"], subject="ada")
            answer = await gateway.client.get("/api/vault/secret", headers=signed_in)
            assert answer.status_code == 200, answer.text
            token = (await _first(heard)).headers[IDENTITY_HEADER]  # type: ignore[attr-defined]

            async def whoami() -> str:
                reply = await spy.client.request(
                    "webos.svc.vault_keeper.whoami",
                    b'{"args": {}}',
                    headers={IDENTITY_HEADER: token},
                    timeout=5,
                )
                return json.loads(reply.data)["result"]

            within = await whoami()
            claims = jwt.decode(token, options={"verify_signature": False})
            assert claims["exp"] - claims["iat"] == LIFETIME  # the bound the gateway signs
            await asyncio.sleep(max(0.0, claims["exp"] - time.time()) + 0.5)
            beyond = await whoami()

    assert within == "ada"  # the bound: a process that handled ada's event acts for her ...
    assert beyond == "anonymous"  # ... for the identity's lifetime, and not a moment longer


async def test_a_module_without_the_handler_cannot_overhear_identities(
    deployment: Deployment,
) -> None:
    async with deployment.module("vault"):
        gateway = await deployment.harness.start(exclude=STANDALONE)
        async with intruder(deployment.server, "module-clerk") as clerk:
            heard = await clerk.listen("vault.opened")  # clerk handles no event at all
            signed_in = gateway.auth_headers(["user"], subject="ada")
            answer = await gateway.client.get("/api/vault/secret", headers=signed_in)
            await clerk.settle()

    assert answer.status_code == 200, answer.text
    assert await deployment.server.refused("module-clerk", "Subscription", "vault.opened")
    assert heard.messages == []
