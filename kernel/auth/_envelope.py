"""The identity that travels with events: signed on emit, verified around every handler.

The gateway (the only process holding the Ed25519 private key) signs the principal of the work in
progress into the ``webos-identity`` header of each event it emits. A module process cannot sign:
when it emits while handling an event, it forwards the header it received for that work, as long
as it still acts as that principal. Around each handler the header is verified with the public
key and ``current_principal`` set; a missing, forged or expired header gives ``ANONYMOUS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.auth._context import current_principal
from kernel.auth._identity import IDENTITY_HEADER, sign_identity, verify_identity
from kernel.auth._permissions import Principal

if TYPE_CHECKING:
    from kernel.bus import Event

#: The verified header of the event being handled, with the principal it vouched for.
received_identity: ContextVar[tuple[str, Principal] | None] = ContextVar(
    "webos_received_identity", default=None
)


class IdentityEnvelope:
    """A ``kernel.bus`` envelope carrying the signed principal (see the module docstring)."""

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        private_key: Ed25519PrivateKey | None = None,
        *,
        leeway: float = 10.0,
    ) -> None:
        self.public_key = public_key
        self.private_key = private_key
        self.leeway = leeway

    @property
    def can_sign(self) -> bool:
        return self.private_key is not None

    def outgoing(self) -> Mapping[str, str] | None:
        principal = current_principal.get()
        if not principal.is_authenticated:
            return None  # anonymous work carries no identity: receivers read it as ANONYMOUS
        if self.private_key is not None:
            return {IDENTITY_HEADER: sign_identity(principal, self.private_key)}
        received = received_identity.get()
        if received is not None and received[1] == principal:
            return {IDENTITY_HEADER: received[0]}
        return None  # a module process cannot vouch for anyone it was not handed

    def incoming(self, event: Event) -> Callable[[], None]:
        token = event.headers.get(IDENTITY_HEADER)
        # A durable redelivery is judged at the time JetStream stored the event, so a retry an
        # hour later still runs as the original caller (the token was valid when it was sent).
        principal = verify_identity(token, self.public_key, leeway=self.leeway, now=event.stored_at)
        forwarded = (token, principal) if token and principal.is_authenticated else None
        principal_token = current_principal.set(principal)
        received_token = received_identity.set(forwarded)

        def undo() -> None:
            received_identity.reset(received_token)
            current_principal.reset(principal_token)

        return undo
