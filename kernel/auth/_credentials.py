"""What counts as a credential in a request: the gateway checks them, nothing passes them on.

A request forwarded to a module process carries the principal the gateway authenticated (signed,
``_propagator.py``), never the credentials it was authenticated with: anything that can read the
forwarding subjects would otherwise collect bearer tokens, API keys and sessions.
"""

from __future__ import annotations

from kernel.auth._cookies import CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE, SESSION_COOKIE

#: Request headers that carry or unlock a credential, lower case as ASGI has them.
CREDENTIAL_HEADERS: frozenset[str] = frozenset({"authorization", "x-api-key", CSRF_HEADER.lower()})
#: Cookies that carry a session.
CREDENTIAL_COOKIES: frozenset[str] = frozenset({SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE})


def without_cookies(header: bytes, names: frozenset[str] = CREDENTIAL_COOKIES) -> bytes:
    """A ``Cookie`` header value without the cookies ``names`` (empty when none is left)."""
    kept = []
    for part in header.split(b";"):
        name = part.split(b"=", 1)[0].strip().decode("latin-1")
        if part.strip() and name not in names:
            kept.append(part.strip())
    return b"; ".join(kept)
