"""Accounts: strong passwords, API keys that never act on their owner's account, revocation."""

from kernel.testing import KernelHarness

from .helpers import add_user, bearer, login, start


async def test_common_passwords_are_refused_over_http(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    for weak in ("1234567890", "password12"):
        created = await app.client.post(
            "/api/auth/users/",
            json={"email": "bob@example.org", "password": weak},
            headers=bearer(admin),
        )
        assert created.status_code == 422, weak
        assert "too easy to guess" in created.json()["detail"]
    users = (await app.client.get("/api/auth/users/", headers=bearer(admin))).json()
    assert [u["email"] for u in users] == ["root@example.org"]
    _, user = await add_user(app, admin, "bob@example.org")
    changed = await app.client.post(
        "/api/auth/password",
        json={"current_password": "a long enough passphrase", "new_password": "1234567890"},
        headers=bearer(user),
    )
    assert changed.status_code == 422
    assert await login(app, "bob@example.org", "a long enough passphrase")


async def _key(app, token: str, permissions: list[str]) -> dict:
    created = await app.client.post(
        "/api/auth/api-keys/", json={"name": "k", "permissions": permissions}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_an_admins_own_key_cannot_change_the_admins_account(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    admin_id = (await app.client.get("/api/auth/me", headers=bearer(admin))).json()["id"]
    key = await _key(app, admin, ["*"])
    as_key = {"X-API-Key": key["key"]}

    demote = await app.client.patch(
        f"/api/auth/users/{admin_id}", json={"roles": ["user"]}, headers=as_key
    )
    reset = await app.client.post(
        f"/api/auth/users/{admin_id}/password",
        json={"password": "taken over by a key"},
        headers=as_key,
    )
    disable = await app.client.delete(f"/api/auth/users/{admin_id}", headers=as_key)
    own = await app.client.post(
        "/api/auth/password",
        json={"current_password": "x", "new_password": "taken over by a key"},
        headers=as_key,
    )
    assert [r.status_code for r in (demote, reset, disable, own)] == [403, 403, 403, 403]
    me = (await app.client.get("/api/auth/me", headers=as_key)).json()
    assert (me["id"], me["kind"], me["key_id"]) == (admin_id, "api_key", key["id"])
    me = (await app.client.get("/api/auth/me", headers=bearer(await login(app)))).json()
    assert me["roles"] == ["admin"]  # still an admin, and the old password still works
    # The key still manages other accounts, as its `*` allows.
    other_id, _ = await add_user(app, admin, "bob@example.org")
    other = await app.client.patch(
        f"/api/auth/users/{other_id}", json={"roles": ["admin"]}, headers=as_key
    )
    assert other.status_code == 200, other.text


async def _key_works(app, key: dict) -> bool:
    answer = await app.client.get("/api/auth/me", headers={"X-API-Key": key["key"]})
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def test_a_password_reset_revokes_the_users_keys(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    user_id, user = await add_user(app, admin, "bob@example.org")
    key = await _key(app, user, ["profile.read"])
    assert await _key_works(app, key)

    reset = await app.client.post(
        f"/api/auth/users/{user_id}/password",
        json={"password": "reset by the admin ok"},
        headers=bearer(admin),
    )
    assert reset.status_code == 204
    assert not await _key_works(app, key)
    listed = await app.client.get(
        "/api/auth/api-keys/",
        headers=bearer(await login(app, "bob@example.org", "reset by the admin ok")),
    )
    assert [k["revoked"] for k in listed.json()] == [True]


async def test_changing_ones_own_password_revokes_ones_keys(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    _, user = await add_user(app, admin, "bob@example.org")
    key = await _key(app, user, ["profile.read"])
    changed = await app.client.post(
        "/api/auth/password",
        json={"current_password": "a long enough passphrase", "new_password": "lovelace engine"},
        headers=bearer(user),
    )
    assert changed.status_code == 204
    assert not await _key_works(app, key)


async def test_disabling_revokes_keys_and_enabling_brings_none_back(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    user_id, user = await add_user(app, admin, "bob@example.org")
    key = await _key(app, user, ["profile.read"])

    off = await app.client.patch(
        f"/api/auth/users/{user_id}", json={"active": False}, headers=bearer(admin)
    )
    on = await app.client.patch(
        f"/api/auth/users/{user_id}", json={"active": True}, headers=bearer(admin)
    )
    assert off.status_code == on.status_code == 200
    assert not await _key_works(app, key)
    fresh = await _key(
        app, await login(app, "bob@example.org", "a long enough passphrase"), ["profile.read"]
    )
    assert await _key_works(app, fresh)  # the account itself works again


async def test_a_role_change_revokes_keys_and_a_no_change_does_not(webos: KernelHarness) -> None:
    app = await start(webos, [], roles='{"operator": ["system.read", "profile.read"]}')
    admin = await login(app)
    user_id, user = await add_user(app, admin, "bob@example.org", ["operator"])
    key = await _key(app, user, ["system.read"])

    same = await app.client.patch(
        f"/api/auth/users/{user_id}", json={"roles": ["operator"]}, headers=bearer(admin)
    )
    assert same.status_code == 200 and await _key_works(app, key)
    promoted = await app.client.patch(
        f"/api/auth/users/{user_id}", json={"roles": ["operator", "user"]}, headers=bearer(admin)
    )
    assert promoted.status_code == 200
    assert not await _key_works(app, key)
