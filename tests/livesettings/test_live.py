"""Live module settings end to end: saved over HTTP (or the CLI), applied without a restart in
the process running the module, in-process and standalone, with precedence and redaction."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from kernel.testing import KernelHarness, RunningKernel, write_module

SETTINGS = "/api/system/settings/greeter"
WEBOS = str(Path(sys.executable).parent / "webos")


async def greeting_becomes(app: RunningKernel, expected: str) -> None:
    """The next greetings use ``expected`` (polled: a change reaches the module's process
    within a NATS round trip; the bound only fails the test)."""
    seen = None
    for _ in range(100):
        response = await app.client.post("/api/greeter/hello", json={"name": "Ada"})
        assert response.status_code == 200, response.text
        seen = response.json()["greeting"]
        if seen == f"{expected}, Ada!":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"greeting stayed {seen!r}, expected {expected!r}")


def field(shown: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in shown["fields"] if item["name"] == name)


async def test_a_saved_greeting_applies_to_the_next_request(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["greeter"])
    announced = await app.subscribe("webos.settings.updated")
    await greeting_becomes(app, "Hello")

    before = (await app.client.get(SETTINGS)).json()
    saved = await app.client.put(SETTINGS, json={"values": {"greeting": "Salut"}})

    assert field(before, "greeting")["source"] == "default"
    assert saved.status_code == 200, saved.text
    assert field(saved.json(), "greeting") | {"value": "Salut", "source": "saved"} == field(
        saved.json(), "greeting"
    )
    await greeting_becomes(app, "Salut")
    event = (await announced.next()).json()
    assert event == {
        "module": "greeter",
        "fields": ["greeting"],
        "by": "test-user",
        "revision": event["revision"],
    }
    history = (await app.client.get(f"{SETTINGS}/history")).json()
    assert [(entry["by"], entry["fields"]) for entry in history] == [("test-user", ["greeting"])]


async def test_an_invalid_value_is_a_field_error_and_nothing_is_saved(
    webos: KernelHarness,
) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["greeter"])
    await app.client.put(SETTINGS, json={"values": {"greeting": "Salut"}})

    refused = await app.client.put(SETTINGS, json={"values": {"greeting": ""}})
    unknown = await app.client.put(SETTINGS, json={"values": {"colour": "red"}})

    assert refused.status_code == 422, refused.text
    assert "at least 1 character" in refused.json()["errors"]["greeting"]
    assert "no such setting" in unknown.json()["errors"]["colour"]
    assert field((await app.client.get(SETTINGS)).json(), "greeting")["value"] == "Salut"
    assert len((await app.client.get(f"{SETTINGS}/history")).json()) == 1
    await greeting_becomes(app, "Salut")


async def test_an_environment_variable_locks_its_field(
    webos: KernelHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBOS_MOD_GREETER_GREETING", "Bonjour")
    webos.sign_in_as("admin")
    app = await webos.start(["greeter"])

    shown = field((await app.client.get(SETTINGS)).json(), "greeting")
    refused = await app.client.put(SETTINGS, json={"values": {"greeting": "Salut"}})

    assert shown | {"source": "env", "locked": True, "value": "Bonjour"} == shown
    assert shown["variable"] == "WEBOS_MOD_GREETER_GREETING"
    assert refused.status_code == 422
    assert "WEBOS_MOD_GREETER_GREETING" in refused.json()["errors"]["greeting"]
    assert (await app.client.get(f"{SETTINGS}/history")).json() == []
    await greeting_becomes(app, "Bonjour")


async def test_reading_needs_settings_read_and_saving_settings_write(
    webos: KernelHarness,
) -> None:
    app = await webos.start(["greeter"])
    nobody = app.auth_headers(["user"])

    read = await app.client.get(SETTINGS, headers=nobody)
    write = await app.client.put(SETTINGS, json={"values": {"greeting": "X"}}, headers=nobody)

    assert (read.status_code, write.status_code) == (403, 403)


VAULT_SETTINGS = """
from pydantic import SecretStr
from kernel import ModuleSettings, on_settings_changed

class VaultSettings(ModuleSettings):
    api_key: SecretStr | None = None
    region: str = "eu"

@on_settings_changed
async def changed(old, new):
    from kernel import bus
    await bus.emit("vault.changed", {"key_set": new.api_key is not None, "region": new.region})
"""


async def test_a_secret_is_write_only_and_the_hook_sees_the_new_settings(
    webos: KernelHarness, tmp_path: Path
) -> None:
    root = tmp_path / "mods"
    write_module(
        root,
        "vault",
        {"settings.py": VAULT_SETTINGS},
        manifest=('name = "vault"\nemits = ["vault.changed"]\n'),
    )
    webos.sign_in_as("admin")
    app = await webos.start(modules_path=root)
    changes = await app.subscribe("vault.changed")
    url = "/api/system/settings/vault"

    saved = await app.client.put(url, json={"values": {"api_key": "s3cr3t-value"}})
    shown = await app.client.get(url)
    history = await app.client.get(f"{url}/history")

    assert saved.status_code == 200, saved.text
    assert field(shown.json(), "api_key") | {"secret": True, "is_set": True, "value": None} == (
        field(shown.json(), "api_key")
    )
    for answer in (saved, shown, history):
        assert "s3cr3t" not in answer.text
    assert (await changes.next()).json() == {"key_set": True, "region": "eu"}
    module = app.kernel.modules["vault"].context
    assert module.settings.api_key.get_secret_value() == "s3cr3t-value"


async def test_a_standalone_greeter_applies_a_saved_greeting(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["audit"])
    await webos.run_module("greeter")
    await greeting_becomes(app, "Hello")

    saved = await app.client.put(SETTINGS, json={"values": {"greeting": "Hej"}})

    assert saved.status_code == 200, saved.text
    await greeting_becomes(app, "Hej")


async def test_the_cli_sets_a_greeting_the_running_gateway_uses(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["greeter"])
    env = {**os.environ, "WEBOS_NATS_URL": webos.nats_url}

    done = await asyncio.create_subprocess_exec(
        WEBOS,
        "settings",
        "set",
        "greeter",
        "greeting=Ciao",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await done.communicate()
    refused = await asyncio.create_subprocess_exec(
        WEBOS,
        "settings",
        "set",
        "greeter",
        "greeting=",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, refusal = await refused.communicate()
    listed = await asyncio.create_subprocess_exec(
        WEBOS,
        "settings",
        "get",
        "greeter",
        "--json",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    shown, _ = await listed.communicate()

    assert done.returncode == 0, err.decode()
    await greeting_becomes(app, "Ciao")
    assert refused.returncode == 1
    assert "greeting" in refusal.decode() and "at least 1 character" in refusal.decode()
    assert field(json.loads(shown), "greeting")["value"] == "Ciao"
    history = (await app.client.get(f"{SETTINGS}/history")).json()
    assert [entry["by"] for entry in history] == ["cli"]


async def test_a_module_started_before_any_gateway_applies_what_is_saved_later(
    webos: KernelHarness,
) -> None:
    # No gateway yet, so no bucket: the module starts on its defaults instead of failing.
    await webos.run_module("greeter")
    webos.sign_in_as("admin")
    app = await webos.start(["audit"])

    saved = await app.client.put(SETTINGS, json={"values": {"greeting": "Moin"}})

    assert saved.status_code == 200, saved.text
    await greeting_becomes(app, "Moin")
