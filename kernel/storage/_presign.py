"""Signed, expiring tokens that stand in for presigned URLs on mounts without their own.

A token is ``base64url(json claims) "." base64url(HMAC-SHA256(secret, claims))``. The claims
name the mount, path, method, optional content type and expiry (Unix seconds), so one token
grants exactly one operation on exactly one object. No state is kept server-side: any replica
sharing the secret can verify, and tokens cannot be revoked before they expire (keep them short).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from ._backend import PresignMethod, check_expiry
from ._errors import AccessDenied, InvalidURN, StorageError
from ._urn import URN, parse_urn

PRESIGNED_PATH = "/api/files/presigned"
_METHODS = ("GET", "PUT")
MIN_SECRET_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise StorageError(f"presign secret must be at least {MIN_SECRET_BYTES} bytes")
    return key


def _mac(key: bytes, body: str) -> str:
    # Domain-separate from any other HMAC use of the same kernel secret.
    return _b64(
        hmac.new(key, b"webos.storage.presign\x00" + body.encode(), hashlib.sha256).digest()
    )


def sign_presigned(
    urn: URN | str,
    secret: str | bytes,
    *,
    expires: timedelta,
    method: PresignMethod = "GET",
    content_type: str | None = None,
    now: float | None = None,
) -> str:
    """Return a token granting ``method`` on ``urn`` until ``now + expires``."""
    target = parse_urn(urn)
    check_expiry(expires)
    if method not in _METHODS:
        raise ValueError(f"method must be GET or PUT, got {method!r}")
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "m": target.mount,
        "p": target.path,
        "op": method,
        "exp": int(issued + expires.total_seconds()),
    }
    if content_type:
        claims["ct"] = content_type
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(_key(secret), body)}"


def presigned_url(token: str, base_url: str = "") -> str:
    """The gateway URL that the files module serves for ``token``."""
    return f"{base_url.rstrip('/')}{PRESIGNED_PATH}?token={quote(token, safe='')}"


def verify_presigned_claims(
    token: str, secret: str | bytes, *, now: float | None = None
) -> tuple[URN, PresignMethod, str | None]:
    """Like :func:`verify_presigned` but also returns the content type signed for a PUT."""
    key = _key(secret)
    body, dot, signature = token.partition(".") if isinstance(token, str) else ("", "", "")
    if not dot or not hmac.compare_digest(_mac(key, body), signature):
        raise AccessDenied("presigned token signature is invalid")
    try:
        claims = json.loads(_unb64(body))
        mount, path, method, exp = claims["m"], claims["p"], claims["op"], int(claims["exp"])
        content_type = claims.get("ct")
    except (ValueError, KeyError, TypeError, binascii.Error):
        # Only reachable with a valid MAC, i.e. a token minted by a different code version.
        raise AccessDenied("presigned token is malformed") from None
    if method not in _METHODS:
        raise AccessDenied(f"presigned token has unknown method {method!r}")
    if (time.time() if now is None else now) >= exp:
        raise AccessDenied(f"presigned token for fs://{mount}/{path} has expired")
    try:
        urn = parse_urn(URN(mount, path))
    except InvalidURN as exc:
        raise AccessDenied(f"presigned token names an invalid URN: {exc}") from None
    return urn, method, content_type


def verify_presigned(
    token: str, secret: str | bytes, *, now: float | None = None
) -> tuple[URN, PresignMethod]:
    """Check signature and expiry; return what the token grants or raise AccessDenied."""
    urn, method, _ = verify_presigned_claims(token, secret, now=now)
    return urn, method
