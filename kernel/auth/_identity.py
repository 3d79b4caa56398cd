"""The signed identity that travels with events, remote calls, forwarded requests and tasks.

Only the gateway holds the Ed25519 private key; module processes get the public key. A module can
therefore check who a message acts for but cannot mint an identity, and a client with publish
rights on NATS cannot make a hand-written message act for someone: without a valid signature the
header reads as ``ANONYMOUS``. The token is a compact JWS (EdDSA) carried in the
``webos-identity`` header.

Lifetimes are short (one minute, ``IDENTITY_TTL``) because a token in a header can be copied: a
process that handled a principal's message may carry that identity on the messages its handling
causes for at most that long after the gateway signed it (the gateway re-signs a principal every
20 seconds), and no longer. That bounds what a process can do with an identity it was handed, and
what anyone who sees one can replay. Deliveries that may come later keep their principal in one
of two ways:

* the kernel re-signs it with ``reattest`` when it redelivers a durable event or retries a task
  from a process that holds the private key (the principal is kept as it was; only ``iat``,
  ``exp`` and ``jti`` are fresh), or
* the consumer verifies with ``now=`` set to the time the stream stored the message (JetStream's
  server-side timestamp, which a publisher cannot choose): the identity is judged as of the moment
  it was accepted, and the signature still guarantees it was not altered.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.auth._clock import time_problem, timestamp
from kernel.auth._jws import verified_claims
from kernel.auth._permissions import ANONYMOUS, PRINCIPAL_KINDS, Principal

IDENTITY_HEADER = "webos-identity"
IDENTITY_ALGORITHM = "EdDSA"
IDENTITY_ISSUER = "webos-gateway"
IDENTITY_AUDIENCE = "webos-identity"
IDENTITY_TTL = timedelta(minutes=1)
MAX_IDENTITY_LENGTH = 16384

_REQUIRED = ("sub", "kind", "iat", "exp", "iss", "aud", "jti")

_log = logging.getLogger("kernel.auth.identity")


def sign_identity(
    principal: Principal,
    private_key: Ed25519PrivateKey,
    *,
    ttl: timedelta = IDENTITY_TTL,
    now: datetime | None = None,
) -> str:
    """The value of the identity header for ``principal``, valid for ``ttl``."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("identities are signed with an Ed25519 private key")
    # Only processes holding the private key sign: module processes never load PyJWT.
    import jwt

    issued = int(timestamp(now))
    claims = {
        "sub": principal.id,
        "kind": principal.kind,
        "email": principal.email,
        "roles": sorted(principal.roles),
        "perms": sorted(principal.permissions),
        "key": principal.key_id,
        "iss": IDENTITY_ISSUER,
        "aud": IDENTITY_AUDIENCE,
        "iat": issued,
        "exp": issued + max(1, int(ttl.total_seconds())),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, private_key, algorithm=IDENTITY_ALGORITHM)


def reattest(
    principal: Principal,
    private_key: Ed25519PrivateKey,
    *,
    ttl: timedelta = IDENTITY_TTL,
    now: datetime | None = None,
) -> str:
    """Re-sign the identity of a late delivery (a redelivered event, a retried task).

    The principal is kept exactly as it was verified when the work was first accepted; roles and
    permissions are not looked up again, so a retry neither gains nor loses rights it had.
    """
    return sign_identity(principal, private_key, ttl=ttl, now=now)


def _strings(value: Any) -> frozenset[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    return None


def _principal(claims: Mapping[str, Any]) -> Principal | str:
    kind, subject, email = claims["kind"], claims["sub"], claims.get("email")
    roles, perms = _strings(claims.get("roles", [])), _strings(claims.get("perms", []))
    key = claims.get("key")
    if kind not in PRINCIPAL_KINDS or not isinstance(subject, str) or not subject:
        return "malformed"
    if roles is None or perms is None or not (email is None or isinstance(email, str)):
        return "malformed"
    if kind == "anonymous":
        return ANONYMOUS
    if (kind == "api_key") != (isinstance(key, str) and bool(key)):
        return "malformed"
    return Principal(
        id=subject, kind=kind, email=email, roles=roles, permissions=perms, key_id=key or None
    )


def _verify(
    token: str | bytes, public_key: Ed25519PublicKey, leeway: float, now: float
) -> tuple[Principal, float, float] | str:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            return "malformed"
    if len(token) > MAX_IDENTITY_LENGTH:
        return "malformed"
    claims = verified_claims(
        token,
        public_key,
        audience=IDENTITY_AUDIENCE,
        issuer=IDENTITY_ISSUER,
        required=_REQUIRED,
    )
    if isinstance(claims, str):
        return claims
    principal = time_problem(claims, now, leeway) or _principal(claims)
    if isinstance(principal, str):
        return principal
    return principal, float(claims["iat"]), float(claims["exp"])


def verify_identity(
    token: str | bytes | None,
    public_key: Ed25519PublicKey,
    *,
    leeway: float = 10.0,
    now: datetime | None = None,
) -> Principal:
    """The principal an identity header vouches for; ``ANONYMOUS`` when it vouches for nobody.

    A missing header is ordinary (anonymous work); a present one that is malformed, expired,
    signed by another key or with another algorithm is logged as a warning, then also treated as
    anonymous, so a forgery never gains more than no header at all.
    """
    return verified_identity(token, public_key, leeway=leeway, now=now)[0]


def verified_identity(
    token: str | bytes | None,
    public_key: Ed25519PublicKey,
    *,
    leeway: float = 10.0,
    now: datetime | None = None,
) -> tuple[Principal, float, float]:
    """:func:`verify_identity`, with the token's ``iat`` and ``exp`` (POSIX seconds) for a
    cache of verified tokens; both 0 when no valid token came."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise TypeError("identities are verified with an Ed25519 public key")
    if not token:
        return ANONYMOUS, 0.0, 0.0
    result = _verify(token, public_key, leeway, timestamp(now))
    if isinstance(result, tuple):
        return result
    _log.warning("ignored an invalid %s header (%s): acting as anonymous", IDENTITY_HEADER, result)
    return ANONYMOUS, 0.0, 0.0


HeaderReattest = Callable[[dict[str, str], datetime | None], dict[str, str]]


def header_reattester(
    public_key: Ed25519PublicKey, private_key: Ed25519PrivateKey, *, leeway: float = 10.0
) -> HeaderReattest:
    """For ``kernel.bus.replay_dead_letter``: re-sign the identity header of a late replay.

    The header is verified as of ``stored_at`` (when JetStream first stored the event); a valid
    one is re-signed fresh, anything else is dropped, so a replay never vouches for more than
    the original event did.
    """

    def reattest_headers(headers: dict[str, str], stored_at: datetime | None) -> dict[str, str]:
        token = headers.pop(IDENTITY_HEADER, None)
        principal = verify_identity(token, public_key, leeway=leeway, now=stored_at)
        if principal.is_authenticated:
            headers[IDENTITY_HEADER] = reattest(principal, private_key)
        return headers

    return reattest_headers
