"""Every self-escalation path is refused, and nothing changes in the store."""

from kernel.testing import KernelHarness

from .helpers import PASSWORD, add_user, bearer, login, start


async def _users(app, admin: str) -> list[dict]:
    return (await app.client.get("/api/auth/users/", headers=bearer(admin))).json()


async def test_registration_is_off_by_default_and_never_takes_roles(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    body = {"email": "eve@example.org", "password": PASSWORD}
    off = await app.client.post("/api/auth/register", json=body)
    assert off.status_code == 403
    await app.stop()

    app = await start(webos, [], environ={"WEBOS_SELF_REGISTRATION": "true"})
    with_roles = await app.client.post("/api/auth/register", json={**body, "roles": ["admin"]})
    assert with_roles.status_code == 400
    assert [u["email"] for u in await _users(app, admin)] == ["root@example.org"]
    plain = await app.client.post("/api/auth/register", json=body)
    assert plain.status_code == 201 and plain.json()["roles"] == ["user"]


async def test_nobody_sets_their_own_roles(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    me = (await app.client.get("/api/auth/me", headers=bearer(admin))).json()
    user_id, user = await add_user(app, admin, "eve@example.org")
    before = await _users(app, admin)

    own = await app.client.patch(
        f"/api/auth/users/{me['id']}", json={"roles": ["user"]}, headers=bearer(admin)
    )
    by_user = await app.client.patch(
        f"/api/auth/users/{user_id}", json={"roles": ["admin"]}, headers=bearer(user)
    )
    assert own.status_code == 403 and by_user.status_code == 403
    assert await _users(app, admin) == before


async def test_non_admins_cannot_use_admin_routes(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    me = (await app.client.get("/api/auth/me", headers=bearer(admin))).json()
    _, user = await add_user(app, admin, "eve@example.org")
    before = await _users(app, admin)
    attempts = [
        ("GET", "/api/auth/users/", None),
        ("POST", "/api/auth/users/", {"email": "x@example.org", "password": PASSWORD}),
        ("PATCH", f"/api/auth/users/{me['id']}", {"active": False}),
        ("DELETE", f"/api/auth/users/{me['id']}", None),
        ("POST", f"/api/auth/users/{me['id']}/password", {"password": "taken over by eve"}),
    ]
    for method, path, body in attempts:
        response = await app.client.request(method, path, json=body, headers=bearer(user))
        assert response.status_code == 403, (method, path)
    assert await _users(app, admin) == before
    assert await login(app)  # the admin's password is unchanged


async def test_a_user_manager_cannot_hand_out_more_than_they_hold(webos: KernelHarness) -> None:
    app = await start(webos, [], roles='{"manager": ["users.admin", "profile.read"]}')
    admin = await login(app)
    _, manager = await add_user(app, admin, "mgr@example.org", ["manager"])
    target_id, _ = await add_user(app, admin, "eve@example.org")
    before = await _users(app, admin)

    grant = await app.client.patch(
        f"/api/auth/users/{target_id}", json={"roles": ["admin"]}, headers=bearer(manager)
    )
    create = await app.client.post(
        "/api/auth/users/",
        json={"email": "x@example.org", "password": PASSWORD, "roles": ["admin"]},
        headers=bearer(manager),
    )
    assert grant.status_code == create.status_code == 403
    assert await _users(app, admin) == before


async def test_api_keys_never_exceed_their_creator(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    _, user = await add_user(app, admin, "eve@example.org")

    beyond = await app.client.post(
        "/api/auth/api-keys/", json={"permissions": ["users.admin"]}, headers=bearer(user)
    )
    wildcard = await app.client.post(
        "/api/auth/api-keys/", json={"permissions": ["*"]}, headers=bearer(user)
    )
    assert beyond.status_code == wildcard.status_code == 403
    assert (await app.client.get("/api/auth/api-keys/", headers=bearer(user))).json() == []
