"""The explorer where the data lives: contacts in its own process, reached through the gateway."""

from __future__ import annotations

from pathlib import Path

from kernel.testing import KernelHarness

REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"
ROLES = '{"reader": ["contacts.contact.read"], "editor": ["contacts.contact.*"]}'


async def test_contacts_running_standalone_is_explored_through_the_gateway(
    webos: KernelHarness,
) -> None:
    gateway = await webos.start(["greeter"], modules_path=REPO_MODULES, roles=ROLES)
    await webos.run_module("contacts", modules_path=REPO_MODULES, WEBOS_ROLES=ROLES)
    editor, reader = gateway.auth_headers(["editor"]), gateway.auth_headers(["reader"])
    events = await gateway.subscribe("contacts.contact.changed")
    contacts = "/api/contacts/admin/contact"

    created = await gateway.client.post(
        contacts, json={"name": "Ada", "email": "ada@example.org"}, headers=editor
    )
    invalid = await gateway.client.post(
        contacts, json={"name": "Ada", "email": "ada"}, headers=editor
    )
    refused = await gateway.client.post(
        contacts, json={"name": "Eve", "email": "eve@example.org"}, headers=reader
    )
    listed = await gateway.client.get(f"{contacts}?q=ada", headers=reader)
    fragment = await gateway.client.get("/api/contacts/console/data/contact", headers=reader)
    models = await gateway.client.get("/api/contacts/admin", headers=reader)

    assert created.status_code == 201, created.text
    assert "not a valid email address" in invalid.json()["errors"]["email"]
    assert refused.status_code == 403
    assert [r["email"] for r in listed.json()["records"]] == ["ada@example.org"]
    assert "ada@example.org" in fragment.text and "New contact" not in fragment.text
    assert [m["model"] for m in models.json()] == ["contact"]
    event = await events.next()
    # Emitted by the module's own process (its NATS user may publish it), believed as its own.
    assert event.json()["action"] == "created"
    assert event.headers["webos-source"] == "contacts"
