"""Replies are private: each user reads its own inbox prefix (``_INBOX_<user>``) and nobody
else's, so a module cannot read another's service results or forwarded HTTP answers."""

from __future__ import annotations

import json

import nats

from kernel import registry
from tests.security.conftest import KEEPER_SECRET, PLANS, STANDALONE, Deployment
from tests.security.hostile import intruder

OTHERS_INBOXES = ("_INBOX.>", "_INBOX_gateway.>", "_INBOX_module-vault.>", "_INBOX_cli.>")


async def test_nobody_reads_replies_meant_for_someone_else(deployment: Deployment) -> None:
    server = deployment.server
    async with deployment.module("vault"):
        gateway = await deployment.harness.start(exclude=STANDALONE)
        async with (
            intruder(server, "module-clerk") as clerk,
            intruder(server, "module-spy") as spy,
        ):
            overheard = [await who.listen(box) for who in (clerk, spy) for box in OTHERS_INBOXES]
            # Replies to the gateway (a forwarded answer, a service result), to the CLI user
            # (nats-py's default prefix, as NATS tools use), and inside the vault process.
            answer = await gateway.client.get("/api/vault/secret", headers=gateway.auth_headers())
            revealed = await registry.get("vault_keeper").reveal()
            operator = await nats.connect(server.url("cli"))
            try:
                reply = await operator.request("webos.svc.vault_keeper.reveal", b"{}", timeout=5)
            finally:
                await operator.close()
            # Its own prefix works: the same intruder asks, and reads its own answer.
            own = await nats.connect(server.url("module-clerk"), inbox_prefix="_INBOX_module-clerk")
            try:
                mine = await own.request("webos.svc.vault_keeper.reveal", b"{}", timeout=5)
            finally:
                await own.close()
            await clerk.settle()
            await spy.settle()

    assert answer.json() == {"plans": PLANS} and revealed == KEEPER_SECRET
    assert json.loads(reply.data) == json.loads(mine.data) == {"result": KEEPER_SECRET}
    assert [heard.subjects for heard in overheard] == [[]] * len(overheard)
    assert server.violations("gateway") == server.violations("module-vault") == []
    for user in ("module-clerk", "module-spy"):
        for box in OTHERS_INBOXES:
            assert await server.refused(user, "Subscription", box), (user, box)
