"""Secrets never leave through the explorer: password hashes, SecretStr, hidden fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import ModuleError
from kernel.testing import KernelHarness, add_user, bearer, login, start_with_auth, write_module

REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"

VAULT_MODELS = """
from beanie import Document
from pydantic import SecretStr

class Entry(Document):
    label: str
    pin: SecretStr
    recovery_password: str = ""
    note: str = ""

    class Settings:
        name = "vault_entries"
"""

VAULT_ADMIN = """
from kernel.explorer import ModelAdmin
from .models import Entry

entry = ModelAdmin(Entry, hidden_fields=("note",), read_only_fields=("label",))
"""

VAULT_ROUTER = """
from litestar import get

@get("/admin/entry")
async def mine() -> str:
    return ""
"""


async def test_auth_models_show_no_hash_and_change_nothing(webos: KernelHarness) -> None:
    app = await start_with_auth(webos, [])
    admin = bearer(await login(app))
    user_id, _ = await add_user(app, (await login(app)), "grace@example.org")

    users = await app.client.get("/api/auth/admin/user?sort=email", headers=admin)
    one = await app.client.get(f"/api/auth/admin/user/{user_id}", headers=admin)
    models = await app.client.get("/api/auth/admin", headers=admin)

    assert users.status_code == 200, users.text
    assert [u["email"] for u in users.json()["records"]] == [
        "grace@example.org",
        "root@example.org",
    ]
    for record in [*users.json()["records"], one.json()]:
        assert "password_hash" not in record and "email_key" not in record
        assert "argon2" not in str(record)
    assert "argon2" not in users.text + one.text
    # Not even one comparison at a time: a hidden field cannot be sorted or filtered by.
    for query in ("sort=password_hash", "password_hash=x", "token_version=0"):
        probe = await app.client.get(f"/api/auth/admin/user?{query}", headers=admin)
        assert probe.status_code == 400, query
    # Accounts change through the auth routes only (their rules hold); sessions are not listed.
    assert [m["model"] for m in models.json()] == ["apikey", "user"]
    assert all(m["writable"] is False for m in models.json())
    patch = await app.client.patch(
        f"/api/auth/admin/user/{user_id}", json={"roles": ["admin"]}, headers=admin
    )
    assert patch.status_code == 403
    assert (await app.client.get("/api/auth/admin/refreshtoken", headers=admin)).status_code == 404
    assert (await app.client.get(f"/api/auth/admin/user/{user_id}", headers=admin)).json()[
        "roles"
    ] == ["user"]


async def test_secret_and_hidden_fields_are_never_shown_nor_accepted(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "vault", {"models.py": VAULT_MODELS, "admin.py": VAULT_ADMIN})
    app = await webos.start(["vault"], modules_path=tmp_path)
    admin = app.auth_headers(["admin"])
    from vault.models import Entry  # the module's own package, imported by the kernel above

    door = Entry(label="door", pin="1234", recovery_password="hunter2", note="under the mat")
    await door.insert()

    listed = await app.client.get("/api/vault/admin/entry", headers=admin)
    one = await app.client.get(f"/api/vault/admin/entry/{door.id}", headers=admin)
    sent = await app.client.post(
        "/api/vault/admin/entry", json={"pin": "1234", "label": "x"}, headers=admin
    )
    described = (await app.client.get("/api/vault/admin", headers=admin)).json()

    # SecretStr and a name saying password: never shown; admin.py hides note, freezes label.
    assert [f["name"] for f in described[0]["fields"]] == ["id", "label"]
    assert listed.json()["records"] == [{"id": str(door.id), "label": "door"}]
    assert one.json() == {"id": str(door.id), "label": "door"}
    for secret in ("1234", "hunter2", "under the mat"):
        assert secret not in listed.text + one.text
    assert sent.status_code == 422
    assert sent.json()["errors"] == {
        "pin": "not an editable field",
        "label": "not an editable field",
    }


async def test_a_misspelt_admin_option_stops_start_up_naming_it(
    webos: KernelHarness, tmp_path: Path
) -> None:
    admin = VAULT_ADMIN.replace('hidden_fields=("note",)', 'hidden_fields=("note", "notes")')
    write_module(tmp_path, "vault", {"models.py": VAULT_MODELS, "admin.py": admin})

    with pytest.raises(
        ModuleError, match=r"'vault' failed to load admin\.py: .* unknown field\(s\) notes"
    ):
        await webos.start(["vault"], modules_path=tmp_path)


async def test_a_route_on_the_explorers_paths_stops_start_up_naming_it(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "vault", {"models.py": VAULT_MODELS, "router.py": VAULT_ROUTER})

    with pytest.raises(ModuleError, match=r"already use /admin/entry"):
        await webos.start(["vault"], modules_path=tmp_path)
