"""``webos users``: the API's account rules and effects, from the command line (real
subprocesses on the harness's store, checked through the harness gateway over HTTP)."""

import asyncio
import subprocess
import sys
from pathlib import Path

from kernel.testing import KernelHarness

from .helpers import PASSWORD, bearer, login, start

WEBOS = str(Path(sys.executable).parent / "webos")
MODULES = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "a different passphrase now"


async def _users(webos: KernelHarness, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {
        "PATH": str(Path(sys.executable).parent),
        "WEBOS_DATA_DIR": str(webos.data_dir),
        "WEBOS_MODULES_PATH": str(MODULES),
    }
    return await asyncio.to_thread(
        subprocess.run,
        [WEBOS, "users", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_cli_and_the_api_refuse_the_same_accounts_in_the_same_words(
    webos: KernelHarness,
) -> None:
    not_an_email = await _users(webos, "create", "not-an-email", "--password-stdin")
    editor = await _users(
        webos, "create", "bob@example.org", "--role", "editor", "--password-stdin"
    )
    weak = await _users(webos, "create", "bob@example.org", "--password-stdin", stdin="password12")

    assert not_an_email.returncode == 1
    assert "'not-an-email' is not a valid e-mail address" in not_an_email.stderr
    assert editor.returncode == 1
    assert "no such role 'editor'; defined roles: admin, user" in editor.stderr
    assert weak.returncode == 1 and "weak password" in weak.stderr

    app = await start(webos, [])
    admin = bearer(await login(app))
    body = {"email": "bob@example.org", "password": PASSWORD, "roles": ["editor"]}
    api_editor = await app.client.post("/api/auth/users/", json=body, headers=admin)
    body = {"email": "not-an-email", "password": PASSWORD}
    api_email = await app.client.post("/api/auth/users/", json=body, headers=admin)

    assert api_editor.status_code == 422, api_editor.text
    assert api_editor.json()["detail"] == "no such role 'editor'; defined roles: admin, user"
    assert api_email.status_code == 400, api_email.text
    assert "'not-an-email' is not a valid e-mail address" in api_email.text
    listed = await _users(webos, "list")
    assert "bob@example.org" not in listed.stdout


async def test_the_cli_manages_accounts_with_the_apis_effects(webos: KernelHarness) -> None:
    created = await _users(webos, "create", "bob@example.org", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    app = await start(webos, [])
    token = await login(app, "bob@example.org", PASSWORD)
    listed = (await _users(webos, "list")).stdout
    assert any(
        "bob@example.org" in line and "active" in line and "user" in line
        for line in listed.splitlines()
    ), listed

    disabled = await _users(webos, "disable", "bob@example.org")
    assert disabled.returncode == 0, disabled.stderr
    me = await app.client.get("/api/auth/me", headers=bearer(token))
    signin = {"email": "bob@example.org", "password": PASSWORD}
    refused = await app.client.post("/api/auth/login", json=signin)
    assert me.status_code == 401 and refused.status_code == 401
    assert "disabled" in (await _users(webos, "list")).stdout

    assert (await _users(webos, "enable", "bob@example.org")).returncode == 0
    token = await login(app, "bob@example.org", PASSWORD)

    reset = await _users(
        webos, "set-password", "bob@example.org", "--password-stdin", stdin=NEW_PASSWORD
    )
    assert reset.returncode == 0, reset.stderr
    assert (await app.client.get("/api/auth/me", headers=bearer(token))).status_code == 401
    assert (await app.client.post("/api/auth/login", json=signin)).status_code == 401
    token = await login(app, "bob@example.org", NEW_PASSWORD)

    promoted = await _users(webos, "set-roles", "bob@example.org", "admin", "user")
    unknown = await _users(webos, "set-roles", "bob@example.org", "editor")
    assert promoted.returncode == 0, promoted.stderr
    assert "no such role 'editor'; defined roles: admin, user" in unknown.stderr
    me = (await app.client.get("/api/auth/me", headers=bearer(token))).json()
    assert me["roles"] == ["admin", "user"]

    generated = await _users(webos, "set-password", "bob@example.org", "--generate-password")
    assert generated.returncode == 0, generated.stderr
    shown = generated.stdout.rsplit(": ", 1)[1].strip()
    assert shown not in generated.stderr and len(shown) >= 20
    await login(app, "bob@example.org", shown)
    missing = await _users(webos, "disable", "nobody@example.org")
    assert missing.returncode == 1 and "no user with the e-mail" in missing.stderr
