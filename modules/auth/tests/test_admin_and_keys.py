"""Administration by an admin, API keys, the first admin and ``webos users create``."""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from kernel.errors import StartupError
from kernel.testing import KernelHarness

from .helpers import ADMIN_EMAIL, PASSWORD, add_user, bearer, login, start

WEBOS = str(Path(sys.executable).parent / "webos")
MODULES = Path(__file__).resolve().parents[2]


async def test_admin_manages_users(webos: KernelHarness) -> None:
    app = await start(webos, [], roles='{"operator": ["system.read"]}')
    admin = await login(app)
    user_id, user = await add_user(app, admin, "bob@example.org")

    roles = await app.client.patch(
        f"/api/auth/users/{user_id}", json={"roles": ["operator", "user"]}, headers=bearer(admin)
    )
    assert roles.json()["roles"] == ["operator", "user"]
    # Roles are read from the store on each request: no new login needed.
    assert (await app.client.get("/api/system/bus", headers=bearer(user))).status_code == 200

    reset = await app.client.post(
        f"/api/auth/users/{user_id}/password",
        json={"password": "reset by the admin ok"},
        headers=bearer(admin),
    )
    assert reset.status_code == 204
    assert (await app.client.get("/api/auth/me", headers=bearer(user))).status_code == 401
    fresh = await login(app, "bob@example.org", "reset by the admin ok")

    gone = await app.client.delete(f"/api/auth/users/{user_id}", headers=bearer(admin))
    assert gone.status_code == 204
    assert (await app.client.get("/api/auth/me", headers=bearer(fresh))).status_code == 401
    refused = await app.client.post(
        "/api/auth/login", json={"email": "bob@example.org", "password": "reset by the admin ok"}
    )
    assert refused.status_code == 401


async def test_api_keys_authenticate_with_their_scope(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    created = await app.client.post(
        "/api/auth/api-keys/",
        json={"name": "ci", "permissions": ["system.read"]},
        headers=bearer(admin),
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("wos_") and created.json()["prefix"] in key

    me = await app.client.get("/api/auth/me", headers={"X-API-Key": key})
    assert me.json()["kind"] == "api_key" and me.json()["permissions"] == ["system.read"]
    by_header = {"Authorization": f"ApiKey {key}"}
    assert (await app.client.get("/api/system/bus", headers=by_header)).status_code == 200
    # The owner is an admin, the key is not.
    assert (await app.client.get("/api/auth/users/", headers=by_header)).status_code == 403
    listed = (await app.client.get("/api/auth/api-keys/", headers=bearer(admin))).json()
    assert [k["name"] for k in listed] == ["ci"] and "key" not in listed[0]

    revoked = await app.client.delete(
        f"/api/auth/api-keys/{created.json()['id']}", headers=bearer(admin)
    )
    assert revoked.status_code == 204
    after = await app.client.get("/api/auth/me", headers={"X-API-Key": key})
    assert after.status_code == 401 and after.json()["reason"] == "unknown or revoked API key"


async def test_first_admin_comes_from_settings_once(webos: KernelHarness) -> None:
    app = await start(webos, [])
    await login(app)
    await app.stop()
    # A second start with another admin configured: an admin exists, nothing is created.
    app = await start(webos, [], admin_email="second@example.org")
    admin = await login(app)
    users = (await app.client.get("/api/auth/users/", headers=bearer(admin))).json()
    assert [u["email"] for u in users] == [ADMIN_EMAIL]


async def test_no_admin_without_settings_and_weak_admin_password_stops_start(
    webos: KernelHarness,
) -> None:
    app = await webos.start(["auth"])
    assert (
        await app.client.post("/api/auth/login", json={"email": "a@b.c", "password": "x"})
    ).status_code == 401
    await app.stop()
    with pytest.raises(StartupError, match="WEBOS_ADMIN_PASSWORD"):
        await start(webos, [], admin_password="short")


def _webos(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WEBOS, *args], input=f"{PASSWORD}\n", env=env, capture_output=True, text=True, timeout=60
    )


async def test_cli_creates_an_admin_the_gateway_accepts(webos: KernelHarness) -> None:
    env = {
        "PATH": str(Path(sys.executable).parent),
        "WEBOS_DATA_DIR": str(webos.data_dir),
        "WEBOS_MODULES_PATH": str(MODULES),
    }
    created = await asyncio.to_thread(
        _webos, "users", "create", "--admin", "Boss@Example.org", "--password-stdin", env=env
    )
    assert created.returncode == 0, created.stderr
    again = await asyncio.to_thread(
        _webos, "users", "create", "boss@example.org", "--password-stdin", env=env
    )
    assert again.returncode == 1 and "already exists" in again.stderr

    app = await webos.start(["auth"])
    token = await login(app, "boss@example.org", PASSWORD)
    me = (await app.client.get("/api/auth/me", headers=bearer(token))).json()
    assert me["roles"] == ["admin"] and me["permissions"] == ["*"]
