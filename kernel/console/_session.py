"""Signing in and out of the console, and who may see which console page.

``POST /console/login`` hands the form to the auth module's ``POST /api/auth/login`` (in this
process, or forwarded to wherever auth runs: the same rate limits, events and checks) and turns
its tokens into HttpOnly cookies (``kernel.auth._cookies``). Console pages redirect to the sign-in
page without a session; an expired session is renewed once from the refresh cookie first.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect
from pydantic import BaseModel, Field

from kernel.auth import principal_of
from kernel.auth._cookies import (
    REFRESH_COOKIE,
    SESSION_ERROR,
    check_same_origin,
    cleared_session_cookies,
    session_cookies,
)
from kernel.console._contrib import CONSOLE_VIEW
from kernel.console._shell import PRODUCT, allowed, html, is_htmx, render
from kernel.errors import WebOSError

#: ``opt`` of console handlers anyone may reach (the sign-in page).
OPEN = {"console_open": True}

if TYPE_CHECKING:
    import httpx


class SignInRequired(WebOSError):
    """No session (or an expired one) on a console page."""

    http_status = 401

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "sign in to continue")
        self.reason = reason


def console_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Signed in with ``console.view``, plus the page's own ``console_permission``."""
    if handler.opt.get("console_open"):
        return
    principal = principal_of(connection)
    if not principal.is_authenticated:
        raise SignInRequired(connection.scope.get(SESSION_ERROR))  # type: ignore[arg-type]
    for needed in (CONSOLE_VIEW, handler.opt.get("console_permission")):
        if not allowed(principal, needed):
            raise PermissionDeniedException(f"missing permission {needed}")


def secure_cookies(request: Request[Any, Any, Any]) -> bool:
    return request.app.state.get("webos_console_secure", True)


def safe_next(target: str | None) -> str:
    """Only console paths of this site (no ``//host`` or scheme tricks)."""
    if not target or not target.startswith("/console") or target.startswith("//"):
        return "/console"
    if "\\" in target or "\n" in target or "\r" in target:
        return "/console"
    return target


class AuthCallFailed(WebOSError):
    """The auth module's route could not be called (httpx's error, as the reason)."""

    http_status = 502


async def call_auth(
    request: Request[Any, Any, Any], path: str, body: dict[str, Any]
) -> httpx.Response:
    """POST to the auth module's route through this very app (forwarded if auth is remote).
    Raises :class:`AuthCallFailed` when the call itself fails."""
    import httpx  # on the first sign-in, not in every gateway's start-up (with its CLI's rich)

    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    transport = httpx.ASGITransport(app=request.app, client=client)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://console.internal"
        ) as http:
            return await http.post(f"/api/auth/{path}", json=body, timeout=10)
    except httpx.HTTPError as error:
        raise AuthCallFailed(str(error)) from error


def _login_page(
    error: str | None, next_url: str, email: str = "", status: int = 200
) -> Response[str]:
    body = render("login.html", product=PRODUCT, error=error, next=next_url, email=email)
    return html(body, status_code=status)


@get("/login", opt=OPEN, include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any], next: FromQuery[str | None] = None
) -> Response[str]:
    """The sign-in form. Signed-in visitors go on to the console."""
    principal = principal_of(request)
    if principal.is_authenticated and allowed(principal, CONSOLE_VIEW):
        return Redirect(safe_next(next), status_code=303)  # type: ignore[return-value]
    reason = request.scope.get(SESSION_ERROR)
    message = "Your session has expired: sign in again." if reason else None
    response = _login_page(message, safe_next(next))
    if reason:
        response.cookies.extend(cleared_session_cookies(secure=secure_cookies(request)))
    return response


class LoginForm(BaseModel):
    email: str = Field("", max_length=320)
    password: str = Field("", max_length=1024)
    next: str = Field("/console", max_length=2000)


@post("/login", opt=OPEN, include_in_schema=False, status_code=200)
async def login_submit(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Check the form with the auth module; set the session cookies on success."""
    check_same_origin(request.scope)
    target = safe_next(data.next)
    if not data.email or not data.password:
        return _login_page("Enter your e-mail and password.", target, data.email, 422)
    try:
        answer = await call_auth(request, "login", {"email": data.email, "password": data.password})
    except AuthCallFailed as error:
        return _login_page(f"Sign-in failed: {error}", target, data.email, 502)
    if answer.status_code == 404:
        return _login_page("Signing in needs the auth module.", target, data.email, 503)
    if answer.status_code == 429:
        return _login_page("Too many attempts: try again later.", target, data.email, 429)
    if answer.status_code != 200:
        wrong = answer.status_code in (401, 422)
        message = (
            "Wrong e-mail or password." if wrong else f"Sign-in failed ({answer.status_code})."
        )
        return _login_page(message, target, data.email, 401 if wrong else 502)
    response = Redirect(target, status_code=303)
    response.cookies.extend(session_cookies(answer.json(), secure=secure_cookies(request)))
    return response


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Request[Any, Any, Any]) -> Response[str]:
    """Revoke the refresh token, clear the cookies, go to the sign-in page."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        # The cookies go anyway; an unrevoked refresh token expires on its own.
        with contextlib.suppress(AuthCallFailed):
            await call_auth(request, "logout", {"refresh_token": refresh})
    response = html("", headers={"HX-Redirect": "/console/login"})
    response.cookies.extend(cleared_session_cookies(secure=secure_cookies(request)))
    return response


@get("/renew", opt=OPEN, include_in_schema=False)
async def renew(
    request: Request[Any, Any, Any], next: FromQuery[str | None] = None
) -> Response[Any]:
    """Trade the refresh cookie for a new session, then go on (or to the sign-in page)."""
    target = safe_next(next)
    refresh = request.cookies.get(REFRESH_COOKIE)
    answer = None
    if refresh:
        try:
            answer = await call_auth(request, "refresh", {"refresh_token": refresh})
        except AuthCallFailed:
            answer = None
    secure = secure_cookies(request)
    if answer is None or answer.status_code != 200:
        response = Redirect(f"/console/login?next={quote(target)}", status_code=303)
        response.cookies.extend(cleared_session_cookies(secure=secure))
        return response
    response = Redirect(target, status_code=303)
    response.cookies.extend(session_cookies(answer.json(), secure=secure))
    return response


def sign_in_required(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    """Renew an expired session from the refresh cookie, else send the browser to sign in."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if is_htmx(request):
        current = request.headers.get("hx-current-url", "/console")
        path = "/" + current.split("://", 1)[-1].partition("/")[2]
        return html(
            "", status_code=401, headers={"HX-Redirect": f"/console/renew?next={quote(path)}"}
        )
    if request.method == "GET" and request.cookies.get(REFRESH_COOKIE):
        return Redirect(f"/console/renew?next={quote(here)}", status_code=303)
    response = Redirect(f"/console/login?next={quote(here)}", status_code=303)
    if exc.reason:
        response.cookies.extend(cleared_session_cookies(secure=secure_cookies(request)))
    return response


def forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[str]:
    """403 as a page (or a fragment for htmx) that says which permission is missing."""
    principal = principal_of(request)
    body = render(
        "forbidden.html",
        product=PRODUCT,
        detail=exc.detail,
        principal=principal,
        fragment=is_htmx(request),
    )
    return html(body, status_code=403)


session_handlers = [login_page, login_submit, logout, renew]
