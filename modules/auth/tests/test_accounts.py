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
