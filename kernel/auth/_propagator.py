"""The caller's identity across processes: one propagator for events, service calls, forwarded
HTTP requests and tasks (``kernel.propagation``).

Only the gateway holds the Ed25519 private key. When work in progress acts for a signed-in
principal, the gateway signs that principal into the ``webos-identity`` header of what the work
sends (``_identity.py`` has the token format and the trust model). A module process or worker
cannot sign: it passes on the header it received for the work in hand, and only while that work
still acts as that principal. The receiving side verifies the header with the public key and sets
``current_principal``; a missing, forged or expired header reads as ``ANONYMOUS``, so a forgery
never gains more than no header at all.

Signing and verifying an Ed25519 JWS costs more than sending a small message, so both ends
remember: a signer reuses a principal's signed identity for a third of its lifetime (a principal
whose roles or permissions change is a different principal and gets a fresh one at once), and a
verifier knows a verified identity until it expires. A stored delivery (a durable event, a task)
is judged as of the moment JetStream accepted it, cache or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.auth._clock import timestamp
from kernel.auth._context import current_principal
from kernel.auth._identity import IDENTITY_HEADER, IDENTITY_TTL, sign_identity, verified_identity
from kernel.auth._permissions import ANONYMOUS, Principal
from kernel.propagation import Undo

#: ASGI scope key a module process sets on a request the gateway forwarded: its principal was
#: restored from the signed identity (``current_principal``), so the authentication middleware
#: takes it instead of reading credentials. Only in-process code builds scopes.
FORWARDED = "webos.forwarded"
#: A signer reuses a principal's identity for a third of its lifetime, so a receiver always
#: gets one with at least two thirds of it left.
REUSE_FOR = IDENTITY_TTL / 3
REMEMBERED = 4096

#: The verified header of the work in hand, with the principal it vouched for.
received_identity: ContextVar[tuple[str, Principal] | None] = ContextVar(
    "webos_received_identity", default=None
)


class IdentitySigner:
    """One signature per principal every ``REUSE_FOR``, not one per message, and never handed
    out past its own expiry. ``clock`` (seconds since the epoch) is for tests."""

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        *,
        ttl: timedelta = IDENTITY_TTL,
        reuse: timedelta | None = None,
        size: int = REMEMBERED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        reuse = ttl / 3 if reuse is None else reuse
        if reuse >= ttl:
            raise ValueError("an identity must be reused for less than its lifetime")
        self._key = private_key
        self._ttl = ttl
        self._lifetime = max(1, int(ttl.total_seconds()))  # as sign_identity counts it
        self._reuse = reuse.total_seconds()
        self._size = size
        self._clock = clock
        #: principal -> (its signed identity, when to sign a fresh one)
        self._signed: dict[Principal, tuple[str, float]] = {}
        #: The last principal object signed for: work in progress emits again and again for the
        #: same object, which then costs no hashing of its roles and permissions.
        self._last: tuple[Principal, str, float] | None = None

    def token(self, principal: Principal) -> str:
        now = self._clock()
        last = self._last
        if last is not None and last[0] is principal and last[2] > now:
            return last[1]
        found = self._signed.get(principal)
        if found is None or found[1] <= now:
            issued = int(now)
            at = datetime.fromtimestamp(issued, UTC)
            token = sign_identity(principal, self._key, ttl=self._ttl, now=at)
            # Signed afresh a third of the way through its life, and in any case before it
            # expires: a receiver always gets an identity with most of its life left.
            found = (token, min(now + self._reuse, issued + self._lifetime))
            _remember(self._signed, principal, found, self._size)
        self._last = (principal, *found)
        return found[0]


class IdentityVerifier:
    """Each identity verified once, then known until it expires."""

    def __init__(
        self, public_key: Ed25519PublicKey, *, leeway: float = 10.0, size: int = REMEMBERED
    ) -> None:
        self._key = public_key
        self._leeway = leeway
        self._size = size
        self._verified: dict[str, tuple[Principal, float, float]] = {}

    def principal(self, token: str | None, at: datetime | None = None) -> Principal:
        """Who ``token`` vouches for at ``at`` (now); ``ANONYMOUS`` for none, a forgery or an
        expired one."""
        if not token:
            return ANONYMOUS
        now = timestamp(at)
        found = self._verified.get(token)
        if found is not None:
            principal, issued, expires = found
            if expires > now - self._leeway and issued <= now + self._leeway:
                return principal
        verified = verified_identity(token, self._key, leeway=self._leeway, now=at)
        if verified[0].is_authenticated:
            _remember(self._verified, token, verified, self._size)
        return verified[0]


class IdentityPropagator:
    """``webos-identity`` on everything a piece of work sends (see the module docstring)."""

    headers = frozenset({IDENTITY_HEADER})

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        private_key: Ed25519PrivateKey | None = None,
        *,
        leeway: float = 10.0,
        ttl: timedelta = IDENTITY_TTL,
    ) -> None:
        self.verifier = IdentityVerifier(public_key, leeway=leeway)
        signer = IdentitySigner(private_key, ttl=ttl) if private_key is not None else None
        self.signer = signer

    @property
    def can_sign(self) -> bool:
        return self.signer is not None

    def token_for(self, principal: Principal) -> str | None:
        """The identity header value this process may send for ``principal``, if any."""
        if not principal.is_authenticated:
            return None  # anonymous work carries no identity: receivers read it as ANONYMOUS
        if self.signer is not None:
            return self.signer.token(principal)
        received = received_identity.get()
        if received is not None and received[1] == principal:
            return received[0]
        return None  # a module process cannot vouch for anyone it was not handed

    def inject(self, headers: MutableMapping[str, str]) -> None:
        token = self.token_for(current_principal.get())
        if token is not None:
            headers[IDENTITY_HEADER] = token

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None) -> Undo:
        token = headers.get(IDENTITY_HEADER)
        principal = self.verifier.principal(token, accepted_at)
        forwarded = (token, principal) if token and principal.is_authenticated else None
        principal_token = current_principal.set(principal)
        received_token = received_identity.set(forwarded)

        def undo() -> None:
            received_identity.reset(received_token)
            current_principal.reset(principal_token)

        return undo


K = TypeVar("K")
V = TypeVar("V")


def _remember(store: dict[K, V], key: K, value: V, size: int) -> None:
    store.pop(key, None)
    if len(store) >= size:
        del store[next(iter(store))]  # the oldest entry
    store[key] = value
