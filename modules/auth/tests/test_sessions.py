"""Login, refresh (rotating, reuse detection), logout, me, own password, rate limits."""

from kernel.auth import IDENTITY_HEADER
from kernel.testing import KernelHarness

from .helpers import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, add_user, bearer, login, start
from .helpers import security as security_of


async def _login(app, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    return await app.client.post("/api/auth/login", json={"email": email, "password": password})


async def test_login_me_refresh_logout(webos: KernelHarness) -> None:
    app = await start(webos, [])
    events = await app.subscribe("auth.>")
    tokens = (await _login(app, ADMIN_EMAIL.upper())).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900

    me = await app.client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == ADMIN_EMAIL and me.json()["roles"] == ["admin"]
    event = await events.next()
    assert event.subject == "auth.logged_in"
    assert set(event.json()) == {"id", "email"}  # no secrets in payloads
    assert IDENTITY_HEADER in event.headers  # the event acts as the user who logged in

    rotated = await app.client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    fresh = rotated.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert (await app.client.get("/api/auth/me", headers=bearer(fresh["access_token"]))).is_success

    out = await app.client.post("/api/auth/logout", json={"refresh_token": fresh["refresh_token"]})
    assert out.status_code == 204
    again = await app.client.post(
        "/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert again.status_code == 401 and again.json()["detail"] == "refresh token revoked"


async def test_reusing_a_refresh_token_revokes_its_family(webos: KernelHarness) -> None:
    app = await start(webos, [])
    first = (await _login(app)).json()["refresh_token"]
    other_login = (await _login(app)).json()["refresh_token"]
    second = (await app.client.post("/api/auth/refresh", json={"refresh_token": first})).json()

    reuse = await app.client.post("/api/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    assert "reused" in reuse.json()["detail"]
    # The thief's (or victim's) successor is dead too; another login's family is untouched.
    successor = await app.client.post(
        "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert successor.status_code == 401
    unrelated = await app.client.post("/api/auth/refresh", json={"refresh_token": other_login})
    assert unrelated.status_code == 200
    unknown = await app.client.post("/api/auth/refresh", json={"refresh_token": "nope"})
    assert unknown.json()["detail"] == "refresh token unknown"


async def test_wrong_email_or_password_get_one_generic_answer(webos: KernelHarness) -> None:
    app = await start(webos, [])
    wrong_password = await _login(app, password="not the password at all")
    unknown_email = await _login(app, email="nobody@example.org")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json()["detail"] == unknown_email.json()["detail"]


async def test_failed_logins_are_rate_limited(webos: KernelHarness) -> None:
    app = await start(webos, [], login_max_per_pair=2)
    for _ in range(2):
        assert (await _login(app, password="wrong password here")).status_code == 401
    limited = await _login(app)  # even the right password waits
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert security_of(app).limiter.check(ADMIN_EMAIL, "127.0.0.1") is not None


async def _login_from(app, address: str, password: str = ADMIN_PASSWORD):
    return await app.client.post(
        "/api/auth/login",
        json={"email": ADMIN_EMAIL, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def test_failing_on_purpose_does_not_lock_the_owner_out(webos: KernelHarness) -> None:
    """An attacker's failures get the attacker refused and the account slowed, never locked."""
    app = await start(webos, [], trusted_proxies="127.0.0.1", login_max_delay=0.05)
    attacker = [
        (await _login_from(app, "203.0.113.9", "guessing the password")).status_code
        for _ in range(6)
    ]
    assert attacker == [401] * 5 + [429]

    owner = await _login_from(app, "198.51.100.7")

    assert owner.status_code == 200, owner.text
    assert (await _login_from(app, "203.0.113.9")).status_code == 429  # the pair stays refused


async def test_many_failures_slow_the_account_down(webos: KernelHarness) -> None:
    app = await start(webos, [], trusted_proxies="127.0.0.1", login_max_delay=0.05)
    for index in range(5):
        answer = await _login_from(app, f"203.0.113.{index}", "guessing the password")
        assert answer.status_code == 401
    assert security_of(app).limiter.delay(ADMIN_EMAIL) == 0.05
    assert security_of(app).limiter.delay("someone.else@example.org") == 0


async def test_forwarded_for_counts_only_from_trusted_proxies(webos: KernelHarness) -> None:
    """By default a client's X-Forwarded-For is ignored: rotating it buys no fresh budget."""
    app = await start(webos, [], login_max_per_address=3)
    for index in range(3):
        answer = await app.client.post(
            "/api/auth/login",
            json={"email": f"user{index}@example.org", "password": "guessing the password"},
            headers={"X-Forwarded-For": f"203.0.113.{index}"},
        )
        assert answer.status_code == 401
    spray = await _login_from(app, "198.51.100.7")
    assert spray.status_code == 429


async def test_wrong_current_passwords_are_throttled(webos: KernelHarness) -> None:
    app = await start(webos, [], login_max_per_pair=3)
    admin = await login(app)
    _, token = await add_user(app, admin, "bob@example.org")
    wrong = {"current_password": "guessing the password", "new_password": "lovelace engine"}
    answers = [
        (await app.client.post("/api/auth/password", json=wrong, headers=bearer(token))).status_code
        for _ in range(4)
    ]
    assert answers == [401, 401, 401, 429]
    right = {"current_password": PASSWORD, "new_password": "lovelace engine"}
    refused = await app.client.post("/api/auth/password", json=right, headers=bearer(token))
    assert refused.status_code == 429  # even the right one waits
    # Nothing changed: a password change would have ended this session.
    assert (await app.client.get("/api/auth/me", headers=bearer(token))).status_code == 200


async def test_a_successful_login_forgives_earlier_mistakes(webos: KernelHarness) -> None:
    """Two typos, then the right password: the next typos start counting from zero again."""
    app = await start(webos, [], login_max_per_pair=3)
    for _ in range(2):
        assert (await _login(app, password="a typo in the password")).status_code == 401
    assert (await _login(app)).status_code == 200

    again = [(await _login(app, password="another typo, later")).status_code for _ in range(2)]

    assert again == [401, 401]  # not locked out after a single new mistake
    assert (await _login(app)).status_code == 200


async def test_changing_ones_password_ends_every_session(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    _, token = await add_user(app, admin, "bob@example.org")
    body = {"current_password": "wrong one, surely", "new_password": "another long passphrase"}
    wrong = await app.client.post("/api/auth/password", json=body, headers=bearer(token))
    assert wrong.status_code == 401
    weak = {"current_password": PASSWORD, "new_password": "short"}
    assert (
        await app.client.post("/api/auth/password", json=weak, headers=bearer(token))
    ).status_code == 422

    body["current_password"] = PASSWORD
    changed = await app.client.post("/api/auth/password", json=body, headers=bearer(token))
    assert changed.status_code == 204
    old = await app.client.get("/api/auth/me", headers=bearer(token))
    assert old.status_code == 401 and old.json()["reason"] == "token revoked"
    assert (await _login(app, "bob@example.org", PASSWORD)).status_code == 401
    assert (await _login(app, "bob@example.org", "another long passphrase")).status_code == 200


async def test_logout_ends_the_sessions_access_token_at_once(webos: KernelHarness) -> None:
    app = await start(webos, [])
    tokens = (await _login(app)).json()
    other = (await _login(app)).json()
    headers = bearer(tokens["access_token"])
    assert (await app.client.get("/api/auth/me", headers=headers)).status_code == 200

    out = await app.client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]})

    assert out.status_code == 204
    after = await app.client.get("/api/auth/me", headers=headers)
    assert after.status_code == 401 and after.json()["reason"] == "session ended"
    still = await app.client.get("/api/auth/me", headers=bearer(other["access_token"]))
    assert still.status_code == 200  # another login is another session


async def test_refresh_reuse_ends_the_sessions_access_tokens(webos: KernelHarness) -> None:
    app = await start(webos, [])
    first = (await _login(app)).json()
    second = (
        await app.client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert (
        await app.client.get("/api/auth/me", headers=bearer(second["access_token"]))
    ).status_code == 200

    reuse = await app.client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )

    assert reuse.status_code == 401
    for stolen in (first["access_token"], second["access_token"]):
        answer = await app.client.get("/api/auth/me", headers=bearer(stolen))
        assert answer.status_code == 401 and answer.json()["reason"] == "session ended"
