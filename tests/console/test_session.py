"""The console's cookie session over plain HTTP: sign-in, CSRF, expiry, renewal, bearer alike."""

from __future__ import annotations

import httpx
import pytest

from kernel.testing import KernelHarness, RunningKernel

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, start_gateway

pytestmark = pytest.mark.asyncio


async def signed_in(app: RunningKernel) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=app.url, timeout=10)
    answer = await client.post(
        "/console/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/console/nodes"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/nodes"
    return client


async def test_sign_in_sets_http_only_same_site_cookies(webos: KernelHarness) -> None:
    app = await start_gateway(webos, ["greeter"])
    answer = await app.client.post(
        "/console/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    set_cookie = "\n".join(answer.headers.get_list("set-cookie"))
    client = await signed_in(app)
    try:
        assert "webos_session=" in set_cookie and "HttpOnly" in set_cookie
        assert "SameSite=lax" in set_cookie and "SameSite=strict" in set_cookie
        assert "Secure" not in set_cookie  # WEBOS_ENV=dev
        assert "Path=/console" in set_cookie  # the refresh token goes to the console only
        # The cookie authenticates like a bearer token, on API routes too.
        me = await client.get("/api/auth/me")
        assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL
        assert (await client.get("/api/system/nodes")).status_code == 200
    finally:
        await client.aclose()


async def test_wrong_password_and_cross_site_login_are_refused(webos: KernelHarness) -> None:
    app = await start_gateway(webos, [])
    wrong = await app.client.post(
        "/console/login", data={"email": ADMIN_EMAIL, "password": "nope nope nope"}
    )
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.text
    assert "webos_session" not in wrong.headers.get("set-cookie", "")
    cross = await app.client.post(
        "/console/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403


async def test_state_changes_need_the_csrf_header(webos: KernelHarness) -> None:
    app = await start_gateway(webos, ["greeter"])
    client = await signed_in(app)
    try:
        csrf = client.cookies["webos_csrf"]
        missing = await client.post("/api/greeter/console/world")
        wrong = await client.post("/api/greeter/console/world", headers={"X-CSRF-Token": "x"})
        other_site = await client.post(
            "/api/greeter/console/world",
            headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
        )
        good = await client.post("/api/greeter/console/world", headers={"X-CSRF-Token": csrf})
        assert [missing.status_code, wrong.status_code, other_site.status_code] == [403] * 3
        assert "CSRF" in missing.json()["detail"]
        assert good.status_code == 200 and good.json() == {"detail": "Hello, world!"}
        # Bearer callers are not cookie sessions: no CSRF header needed.
        token = (
            await app.client.post(
                "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
        ).json()["access_token"]
        bearer = await app.client.post(
            "/api/greeter/console/world", headers={"Authorization": f"Bearer {token}"}
        )
        assert bearer.status_code == 200
    finally:
        await client.aclose()


async def test_a_bad_session_is_renewed_from_the_refresh_cookie_or_sent_to_sign_in(
    webos: KernelHarness,
) -> None:
    app = await start_gateway(webos, [])
    client = await signed_in(app)
    try:
        client.cookies.set("webos_session", "expired.or.forged", domain="127.0.0.1")
        # Closed API routes answer 401; console pages renew the session and go on.
        assert (await client.get("/api/auth/me")).status_code == 401
        first = await client.get("/console/nodes")
        assert first.status_code == 303
        assert first.headers["location"] == "/console/renew?next=/console/nodes"
        renewed = await client.get(first.headers["location"])
        assert renewed.status_code == 303 and renewed.headers["location"] == "/console/nodes"
        assert (await client.get("/console/nodes")).status_code == 200

        # Without a usable refresh token: to the sign-in page, which says why.
        client.cookies.set("webos_session", "expired.or.forged", domain="127.0.0.1")
        client.cookies.set("webos_refresh", "gone", domain="127.0.0.1", path="/console")
        renew = await client.get("/console/renew?next=/console/dlq")
        assert renew.headers["location"] == "/console/login?next=/console/dlq"
        client.cookies.set("webos_session", "expired.or.forged", domain="127.0.0.1")
        login = await client.get("/console/login?next=/console/dlq")
        assert "Your session has expired" in login.text
    finally:
        await client.aclose()


async def test_htmx_requests_without_a_session_are_told_where_to_go(
    webos: KernelHarness,
) -> None:
    app = await start_gateway(webos, [])
    answer = await app.client.get(
        "/console/nodes/table",
        headers={"HX-Request": "true", "HX-Current-URL": f"{app.url}/console/nodes"},
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/console/renew?next=/console/nodes"


async def test_sign_out_revokes_and_clears(webos: KernelHarness) -> None:
    app = await start_gateway(webos, [])
    client = await signed_in(app)
    try:
        refresh = client.cookies["webos_refresh"]
        out = await client.post(
            "/console/logout", headers={"X-CSRF-Token": client.cookies["webos_csrf"]}
        )
        assert out.status_code == 200 and out.headers["HX-Redirect"] == "/console/login"
        assert (await client.get("/console")).status_code == 303
        again = await app.client.post("/api/auth/refresh", json={"refresh_token": refresh})
        assert again.status_code == 401
    finally:
        await client.aclose()
