"""Access tokens through real HTTP: every kind of bad token is a 401 naming the reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kernel.auth import TokenConfig, issue_access_token
from kernel.auth._pem import public_pem
from kernel.auth._reasons import explain
from kernel.testing import KernelHarness
from tests.auth import forge
from tests.auth.web import bearer, login, security, start


async def _me(app, token: str) -> tuple[int, str]:
    response = await app.client.get("/api/auth/me", headers=bearer(token))
    assert response.headers["content-type"].startswith("application/problem+json") or (
        response.status_code == 200
    )
    # A refusal names its stable reason, and says it in words (the detail) without the token.
    body = response.json()
    if response.status_code == 401:
        assert body["detail"] == explain(body["reason"]) and token not in body["detail"]
    return response.status_code, body.get("reason", "")


async def test_a_real_token_works_and_forgeries_are_401(webos: KernelHarness) -> None:
    app = await start(webos, [])
    token = await login(app)
    config = security(app).signing.tokens()
    assert config.algorithm == "EdDSA"
    claims = forge.unverified_payload(token)
    past = datetime.now(UTC) - timedelta(hours=1)
    future = datetime.now(UTC) + timedelta(hours=1)
    extra = {"email": claims["email"], "ver": claims["ver"]}

    def issued(cfg: TokenConfig, now: datetime | None = None) -> str:
        return issue_access_token(cfg, claims["sub"], roles=["admin"], extra_claims=extra, now=now)

    cases = {
        "expired": issued(config, past),
        "not yet valid": issued(config, future),
        "bad signature": forge.with_payload(token, {**claims, "roles": ["admin", "x"]}),
        "algorithm not allowed": forge.alg_none(claims),
        "wrong audience": issued(replace(config, audience="elsewhere")),
        "wrong issuer": issued(replace(config, issuer="someone-else")),
    }
    assert await _me(app, token) == (200, "")
    for reason, bad in cases.items():
        status, detail = await _me(app, bad)
        assert (status, detail) == (401, reason), reason
    assert await _me(app, forge.flip_signature(token)) == (401, "bad signature")
    # An HMAC token, whatever its key (a guess, the public key): EdDSA is pinned.
    public = public_pem(config.verification_key)
    for key in (b"guessed-secret-guessed-secret-32", public):
        assert await _me(app, forge.hs256_with(key, claims)) == (401, "algorithm not allowed")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
        ({"Authorization": "Basic cm9vdDpyb290"}, "unsupported authorization scheme"),
        ({"X-API-Key": "wos_nope"}, "malformed API key"),
        ({"Authorization": "ApiKey wos_0123456789ab_" + "a" * 43}, "unknown or revoked API key"),
    ],
)
async def test_bad_credentials_are_401_even_on_public_routes(
    webos: KernelHarness, headers: dict[str, str], detail: str
) -> None:
    app = await start(webos, ["greeter"])
    response = await app.client.post("/api/greeter/hello", json={"name": "Ada"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["reason"] == detail
    assert response.json()["detail"] == explain(detail)
    assert "invalid_token" in response.headers["www-authenticate"]
    anonymous = await app.client.post("/api/greeter/hello", json={"name": "Ada"})
    assert anonymous.status_code == 200


async def test_token_of_a_disabled_user_stops_working(webos: KernelHarness) -> None:
    app = await start(webos, [])
    admin = await login(app)
    created = await app.client.post(
        "/api/auth/users/",
        json={"email": "bob@example.org", "password": "a long enough passphrase"},
        headers=bearer(admin),
    )
    bob = await login(app, "bob@example.org", "a long enough passphrase")
    assert (await app.client.get("/api/auth/me", headers=bearer(bob))).status_code == 200

    await app.client.delete(f"/api/auth/users/{created.json()['id']}", headers=bearer(admin))

    assert await _me(app, bob) == (401, "account disabled")


async def test_a_401_says_in_words_what_is_wrong_and_what_to_do(webos: KernelHarness) -> None:
    app = await start(webos, [])
    config = security(app).signing.tokens()
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = issue_access_token(config, "ada", roles=["user"], now=past)

    answers = {
        "none": await app.client.get("/api/auth/me"),
        "malformed": await app.client.get("/api/auth/me", headers=bearer("not-a-jwt")),
        "expired": await app.client.get("/api/auth/me", headers=bearer(expired)),
    }

    assert all(answer.status_code == 401 for answer in answers.values())
    details = {name: answer.json()["detail"] for name, answer in answers.items()}
    assert "send an access token" in details["none"] and "X-API-Key" in details["none"]
    assert details["malformed"].startswith("the access token is not a token this server can read")
    assert "sign in again" in details["malformed"]
    assert details["expired"].startswith("the access token has expired")
    assert "POST /api/auth/refresh" in details["expired"]
    assert expired not in answers["expired"].text  # never the credential back
    assert answers["expired"].json()["reason"] == "expired"
