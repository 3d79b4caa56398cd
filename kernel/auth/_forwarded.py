"""The caller's identity on requests the gateway forwards to module processes.

The gateway authenticates a request once, with everything it has (the auth module's accounts,
API keys, revocation), and forwards the principal it found as a signed identity
(``webos-identity``, see ``_identity.py``). The module process takes that principal as the
request's: it neither re-reads the credentials (it could not look up an API key or a demotion)
nor trusts anything unsigned. A header a client sent under that name is dropped by the gateway.

Signing and verifying an Ed25519 JWS costs more than forwarding a small request, so both ends
remember: the gateway reuses a principal's signed identity for a minute, a module process a
verified one until it expires. A principal whose roles or permissions change is a different
principal, so it gets a fresh identity at once.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.auth._identity import IDENTITY_TTL, sign_identity, verify_identity
from kernel.auth._permissions import ANONYMOUS, Principal

#: ASGI scope key a module process's responder sets on a forwarded request: ``(token,
#: principal)`` (token None for anonymous callers). Only in-process code builds scopes, so a
#: client cannot set it; the authentication middleware takes it instead of the credentials.
FORWARDED_IDENTITY = "webos.forwarded_identity"
REUSE_FOR = timedelta(minutes=1)
REMEMBERED = 4096


class IdentitySigner:
    """The gateway's end: one signature per principal and minute, not one per request."""

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        *,
        reuse: timedelta = REUSE_FOR,
        size: int = REMEMBERED,
    ) -> None:
        if reuse >= IDENTITY_TTL:
            raise ValueError("an identity must be reused for less than its lifetime")
        self._key = private_key
        self._reuse = reuse.total_seconds()
        self._size = size
        self._signed: dict[Principal, tuple[str, float]] = {}

    def token(self, principal: Principal) -> str:
        now = time.monotonic()
        found = self._signed.get(principal)
        if found is not None and found[1] > now:
            return found[0]
        token = sign_identity(principal, self._key)
        _remember(self._signed, principal, (token, now + self._reuse), self._size)
        return token


class IdentityVerifier:
    """A module process's end: each identity verified once, then known until it expires."""

    def __init__(
        self, public_key: Ed25519PublicKey, *, leeway: float = 10.0, size: int = REMEMBERED
    ) -> None:
        self._key = public_key
        self._leeway = leeway
        self._size = size
        self._verified: dict[str, tuple[Principal, float]] = {}

    def principal(self, token: str | None) -> Principal:
        """Who ``token`` vouches for now; ``ANONYMOUS`` for none, a forgery or an expired one."""
        if not token:
            return ANONYMOUS
        now = time.time()
        found = self._verified.get(token)
        if found is not None and found[1] > now:
            return found[0]
        principal = verify_identity(token, self._key, leeway=self._leeway)
        if principal.is_authenticated:
            # The signature was just checked: reading the expiry again needs no key.
            expires = jwt.decode(token, options={"verify_signature": False})["exp"]
            _remember(self._verified, token, (principal, float(expires)), self._size)
        return principal


K = TypeVar("K")
V = TypeVar("V")


def _remember(store: dict[K, V], key: K, value: V, size: int) -> None:
    store.pop(key, None)
    if len(store) >= size:
        del store[next(iter(store))]  # the oldest entry
    store[key] = value
