"""The auth module's console apps over real HTTP: Admin (users.admin) and My account.

The browser walk is ``tests/console/test_admin_app.py``; here, the refusals and what each
change does and audits, with bearer tokens (no cookie, so no CSRF token needed).
"""

import re

import httpx

from kernel.testing import KernelHarness

from .helpers import ADMIN_EMAIL, ADMIN_PASSWORD, add_user, bearer, login, start

ADMIN = "/api/auth/console/admin"
ACCOUNT = "/api/auth/console/account"
ROLES = '{"operator": ["console.view", "system.read"], "viewer": ["console.view"]}'
SHOWN = re.compile(r"data-secret>([^<]+)<")


async def _me(app, token: str) -> str:  # type: ignore[no-untyped-def]
    return (await app.client.get("/api/auth/me", headers=bearer(token))).json()["id"]


async def test_nobody_changes_their_own_roles_in_the_console(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    own = await _me(app, admin)

    detail = await app.client.get(f"{ADMIN}/users/{own}", headers=bearer(admin))
    assert detail.status_code == 200
    assert "This is your own account" in detail.text and "Save roles" not in detail.text
    refused = await app.client.post(
        f"{ADMIN}/users/{own}/roles", data={"roles": ["user"]}, headers=bearer(admin)
    )
    assert refused.status_code == 403
    assert "nobody may change their own account" in refused.json()["detail"]
    me = await app.client.get("/api/auth/me", headers=bearer(admin))
    assert me.json()["roles"] == ["admin"]


async def test_a_key_wider_than_its_owner_is_refused(webos: KernelHarness) -> None:
    app = await start(webos, [], roles=ROLES)
    admin = await login(app)
    _, viewer = await add_user(app, admin, "vi@example.org", ["viewer"])

    wider = await app.client.post(
        f"{ACCOUNT}/keys", data={"name": "x", "permissions": "system.read"}, headers=bearer(viewer)
    )
    assert wider.status_code == 403
    assert wider.json()["detail"] == "you do not hold: system.read"
    page = await app.client.get(ACCOUNT, headers=bearer(viewer))
    assert "No API keys yet." in page.text

    own = await app.client.post(
        f"{ACCOUNT}/keys",
        data={"name": "ci", "permissions": "console.view"},
        headers=bearer(viewer),
    )
    assert own.status_code == 200
    key = SHOWN.search(own.text).group(1)  # type: ignore[union-attr]
    me = await app.client.get("/api/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200, me.text
    assert me.json()["permissions"] == ["console.view"]


async def test_the_admin_app_needs_users_admin(webos: KernelHarness) -> None:
    app = await start(webos, [], roles=ROLES)
    admin = await login(app)
    _, viewer = await add_user(app, admin, "vi@example.org", ["viewer"])

    for path in (ADMIN, f"{ADMIN}/users", f"{ADMIN}/palette"):
        assert (await app.client.get(path, headers=bearer(viewer))).status_code == 403
    create = await app.client.post(
        f"{ADMIN}/users", data={"email": "eve@example.org"}, headers=bearer(viewer)
    )
    assert create.status_code == 403
    users = await app.client.get("/api/auth/users/", headers=bearer(admin))
    assert "eve@example.org" not in users.text
    # The console shows the viewer My account, and neither the Admin app nor its commands.
    shell = await app.client.get("/console", headers=bearer(viewer))
    assert "/console/apps/auth/account" in shell.text
    assert "/console/apps/auth/admin" not in shell.text and "Create user" not in shell.text
    assert 'data-sources=""' in shell.text  # nor its "Reset password for <email>" entries
    admins = await app.client.get("/console", headers=bearer(admin))
    assert f'data-sources="{ADMIN}/palette"' in admins.text
    entries = (await app.client.get(f"{ADMIN}/palette", headers=bearer(admin))).json()
    assert [e["title"] for e in entries] == [
        "Reset password for root@example.org",
        "Reset password for vi@example.org",
    ]


async def test_the_admin_manages_a_user_and_every_change_is_audited(
    webos: KernelHarness,
) -> None:
    app = await start(webos, [], roles=ROLES)
    admin = await login(app)
    events = await app.subscribe("auth.>")

    created = await app.client.post(
        f"{ADMIN}/users",
        data={"email": "bob@example.org", "roles": ["operator"]},
        headers=bearer(admin),
    )
    assert created.status_code == 200, created.text
    generated = SHOWN.search(created.text).group(1)  # type: ignore[union-attr]
    bob = await login(app, "bob@example.org", generated)
    assert (await events.next()).subject == "auth.user_created"
    found = await app.client.get(f"{ADMIN}/users", params={"q": "BOB@"}, headers=bearer(admin))
    assert "bob@example.org" in found.text and ADMIN_EMAIL not in found.text
    bob_id = await _me(app, bob)

    detail = await app.client.get(f"{ADMIN}/users/{bob_id}", headers=bearer(admin))
    assert "End session" in detail.text  # bob's login above
    reset = await app.client.post(f"{ADMIN}/users/{bob_id}/password", headers=bearer(admin))
    assert reset.status_code == 200
    fresh = SHOWN.search(reset.text).group(1)  # type: ignore[union-attr]
    assert fresh != generated and "No live sessions." in reset.text
    assert (await app.client.get("/api/auth/me", headers=bearer(bob))).status_code == 401
    await login(app, "bob@example.org", fresh)
    subjects = [(await events.next()).subject for _ in range(3)]
    assert subjects == ["auth.logged_in", "auth.password_changed", "auth.logged_in"]

    detail = await app.client.get(f"{ADMIN}/users/{bob_id}", headers=bearer(admin))
    family = re.search(r"sessions/([^/]+)/revoke", detail.text).group(1)  # type: ignore[union-attr]
    ended = await app.client.post(
        f"{ADMIN}/users/{bob_id}/sessions/{family}/revoke", headers=bearer(admin)
    )
    assert ended.status_code == 200 and "No live sessions." in ended.text
    assert (await events.next()).subject == "auth.session_revoked"

    disabled = await app.client.post(
        f"{ADMIN}/users/{bob_id}/active", data={"active": "false"}, headers=bearer(admin)
    )
    assert disabled.status_code == 200 and "disabled" in disabled.text
    assert (await events.next()).json() == {"id": bob_id, "roles": ["operator"], "active": False}
    refused = await app.client.post(
        "/api/auth/login", json={"email": "bob@example.org", "password": fresh}
    )
    assert refused.status_code == 401
    weak = await app.client.post(
        f"{ADMIN}/users",
        data={"email": "carol@example.org", "password": "password"},
        headers=bearer(admin),
    )
    assert weak.status_code == 422
    assert (await app.client.get(f"{ADMIN}/users", headers=bearer(admin))).text.count("carol@") == 0


async def test_a_cookie_session_needs_the_csrf_header_to_create_a_user(
    webos: KernelHarness,
) -> None:
    app = await start(webos, [])
    admin = await login(app)
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as browser:
        signed = await browser.post(
            "/console/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert signed.status_code == 303
        form = {"email": "dan@example.org", "password": "a long enough passphrase"}
        forged = await browser.post(f"{ADMIN}/users", data=form)
        assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
        users = await app.client.get("/api/auth/users/", headers=bearer(admin))
        assert "dan@example.org" not in users.text
        csrf = {"X-CSRF-Token": browser.cookies["webos_csrf"]}
        made = await browser.post(f"{ADMIN}/users", data=form, headers=csrf)
        assert made.status_code == 200 and "Created dan@example.org." in made.text
