"""The console's session cookie: an authenticator next to bearer tokens and API keys.

A browser signed in at ``/console/login`` holds three cookies:

* ``webos_session``: the access token (HttpOnly, SameSite=Lax, path ``/``, Secure unless
  ``WEBOS_ENV=dev``), checked exactly like a bearer token, so ``requires()`` treats both alike;
* ``webos_refresh``: the refresh token (HttpOnly, SameSite=Strict, path ``/console`` only), which
  the console trades for a new session when the access token expires;
* ``webos_csrf``: a random token (readable by the page's script, SameSite=Strict).

CSRF: a request that a session cookie authenticates and that may change state (any method but
GET, HEAD, OPTIONS) must send the ``X-CSRF-Token`` header equal to the ``webos_csrf`` cookie
(double submit: another site can make the browser send cookies but cannot read them), and its
``Origin``, when present, must be this host. Otherwise it is refused with 403. An expired or bad
session cookie does not fail the request: it is ignored (the caller is anonymous, so closed
routes answer 401 and console pages redirect to the sign-in page), and the reason is kept in the
scope under ``SESSION_ERROR`` for the console to show.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.types import Scope

from kernel.auth._apikeys import constant_time_equals
from kernel.auth._errors import InvalidToken
from kernel.auth._middleware import reads_headers
from kernel.auth._permissions import Principal

if TYPE_CHECKING:
    from kernel.auth._subsystem import SecuritySubsystem

SESSION_COOKIE = "webos_session"
REFRESH_COOKIE = "webos_refresh"
CSRF_COOKIE = "webos_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_ERROR = "webos.session_error"
REFRESH_PATH = "/console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies (the first value of each name)."""
    found: dict[str, str] = {}
    for key, value in scope["headers"]:
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            name, sep, content = part.strip().partition("=")
            if sep and name and name not in found:
                found[name] = content.strip().strip('"')
    return found


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def check_same_origin(scope: Scope) -> None:
    """Refuse a request whose ``Origin`` names another site (absent Origin passes)."""
    origin = _header(scope, b"origin")
    if origin is None:
        return
    host = _header(scope, b"host")
    if origin == "null" or host is None or urlsplit(origin).netloc != host:
        raise PermissionDeniedException("cross-site request refused (Origin is not this site)")


def check_csrf(scope: Scope, cookies: Mapping[str, str]) -> None:
    """Double submit: the ``X-CSRF-Token`` header must equal the ``webos_csrf`` cookie."""
    check_same_origin(scope)
    expected = cookies.get(CSRF_COOKIE)
    sent = _header(scope, CSRF_HEADER.lower().encode())
    if not expected or not sent or not constant_time_equals(sent, expected):
        raise PermissionDeniedException(
            f"CSRF check failed: a cookie session must send the {CSRF_HEADER} header "
            f"with the value of the {CSRF_COOKIE} cookie"
        )


@reads_headers(b"cookie")
async def session_cookie(scope: Scope, security: SecuritySubsystem) -> Principal | None:
    """Authenticator: the principal of a valid ``webos_session`` cookie (see module docstring)."""
    cookies = request_cookies(scope)
    token = cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        principal = await security.principal_for_access_token(token)
    except InvalidToken as error:
        state: Any = scope
        state[SESSION_ERROR] = error.reason
        return None
    if scope["type"] == "http" and scope.get("method") not in SAFE_METHODS:
        check_csrf(scope, cookies)
    return principal


def session_cookies(tokens: Mapping[str, Any], *, secure: bool) -> list[Cookie]:
    """The cookies that sign a browser in, from the auth module's token answer."""
    cookies = [
        Cookie(
            key=SESSION_COOKIE,
            value=tokens["access_token"],
            path="/",
            max_age=int(tokens.get("refresh_expires_in") or tokens.get("expires_in") or 900),
            httponly=True,
            secure=secure,
            samesite="lax",
        ),
        Cookie(
            key=CSRF_COOKIE,
            value=secrets.token_urlsafe(32),
            path="/",
            httponly=False,
            secure=secure,
            samesite="strict",
        ),
    ]
    if tokens.get("refresh_token"):
        cookies.append(
            Cookie(
                key=REFRESH_COOKIE,
                value=tokens["refresh_token"],
                path=REFRESH_PATH,
                max_age=int(tokens.get("refresh_expires_in") or 0) or None,
                httponly=True,
                secure=secure,
                samesite="strict",
            )
        )
    return cookies


def cleared_session_cookies(*, secure: bool) -> list[Cookie]:
    """Cookies that sign a browser out (expired, same names and paths)."""
    return [
        Cookie(key=name, value="", path=path, max_age=0, httponly=http_only, secure=secure)
        for name, path, http_only in (
            (SESSION_COOKIE, "/", True),
            (CSRF_COOKIE, "/", False),
            (REFRESH_COOKIE, REFRESH_PATH, True),
        )
    ]
