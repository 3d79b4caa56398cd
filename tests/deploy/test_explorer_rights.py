"""The data explorer under production NATS rights: a module process may emit its change events."""

from __future__ import annotations

import json
from pathlib import Path

import nats

from kernel.deploy import inspect_modules, module_permissions, nats_users
from kernel.testing import KernelHarness, server_caught_up
from tests.security.hostile import module_process, secured_nats

MODULES = Path(__file__).resolve().parents[2] / "modules"


def test_a_module_with_documents_may_publish_its_change_events_only() -> None:
    facts = inspect_modules(MODULES)
    contacts = module_permissions(facts["contacts"])
    greeter = module_permissions(facts["greeter"])
    assert "contacts.*.changed" in contacts.publish
    assert not any(s.endswith(".changed") for s in greeter.publish)  # no models.py


async def test_contacts_under_its_own_user_records_a_change_through_the_gateway(
    tmp_path: Path,
) -> None:
    facts = inspect_modules(MODULES)
    users = {user.name: user for user in nats_users(facts, ["contacts"])}
    with secured_nats(list(users.values()), tmp_path) as server:
        gateway = KernelHarness(server.url(users["gateway"]), tmp_path / "data", MODULES)
        app = await gateway.start(["greeter"], roles='{"editor": ["contacts.contact.*"]}')
        environment = {"WEBOS_ROLES": '{"editor": ["contacts.contact.*"]}'}
        async with module_process(server, users, "contacts", MODULES, tmp_path, **environment):
            cli = await nats.connect(server.url(users["cli"]))
            try:
                changed = await cli.subscribe("contacts.contact.changed")
                await server_caught_up(cli)
                created = await app.client.post(
                    "/api/contacts/admin/contact",
                    json={"name": "Ada", "email": "ada@example.org"},
                    headers=app.auth_headers(["editor"]),
                )
                assert created.status_code == 201, created.text
                event = await changed.next_msg(timeout=10)
                assert json.loads(event.data)["action"] == "created"
            finally:
                await cli.close()
        await gateway.close()
        assert server.violations() == []
