"""HTTP authentication: turn the request's credentials into the principal of the request.

Credentials, tried in this order (sending more than one kind is refused as ambiguous):

* ``Authorization: Bearer <access token>`` (a JWT from ``POST /api/auth/login``);
* ``Authorization: ApiKey wos_...`` or ``X-API-Key: wos_...``.

No credential gives ``ANONYMOUS`` (the app-wide guard then refuses every non-public route); a bad
one answers 401 on public routes too, so a client with an expired token learns to refresh instead
of silently acting as nobody: ``reason`` the short phrase, ``detail`` it in words (``_reasons.py``).

The console's session cookie is one more ``Authenticator`` (``_cookies.py``), tried after the
header authenticators when they found nothing.

Each authenticator says which request headers it reads (``reads_headers``): a request sending
none of them (most calls of public routes) is anonymous without any parsing.

A request the gateway forwarded to a module process carries no credential the module reads: the
gateway authenticated it and the propagation seam restored its principal (``_propagator.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Receive, Scope, Send

from kernel.auth._context import current_principal
from kernel.auth._errors import InvalidToken
from kernel.auth._permissions import ANONYMOUS, Principal
from kernel.auth._propagator import FORWARDED, received_identity
from kernel.auth._reasons import explain

if TYPE_CHECKING:
    from kernel.auth._subsystem import SecuritySubsystem

#: ``async (scope, security) -> Principal | None``: None when the request carries no credential
#: of this kind; raise ``InvalidToken(reason)`` when it carries a bad one.
Authenticator = Callable[[Scope, "SecuritySubsystem"], Awaitable[Principal | None]]
A = TypeVar("A", bound=Authenticator)

#: The headers each authenticator reads, lower case as ASGI has them (``reads_headers``).
_HEADERS_READ: dict[Authenticator, frozenset[bytes]] = {}


def reads_headers(*names: bytes) -> Callable[[A], A]:
    """Declare the only headers an authenticator reads: without them it is not called.

    An authenticator that declares nothing is called for every request.
    """

    def declare(authenticator: A) -> A:
        _HEADERS_READ[authenticator] = frozenset(names)
        return authenticator

    return declare


@lru_cache(maxsize=16)
def _credential_headers(authenticators: tuple[Authenticator, ...]) -> frozenset[bytes] | None:
    read: set[bytes] = set()
    for authenticator in authenticators:
        names = _HEADERS_READ.get(authenticator)
        if names is None:
            return None  # it may read anything
        read |= names
    return frozenset(read)


def credential_headers(authenticators: Iterable[Authenticator]) -> frozenset[bytes] | None:
    """Every header ``authenticators`` read; None when one of them did not say."""
    return _credential_headers(tuple(authenticators))


def _sends_any(scope: Scope, names: frozenset[bytes]) -> bool:
    return not names.isdisjoint([key for key, _ in scope["headers"]])


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def _authorization(scope: Scope) -> tuple[str, str] | None:
    values = _headers(scope, b"authorization")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidToken("more than one Authorization header")
    scheme, _, credential = values[0].strip().partition(" ")
    return scheme.lower(), credential.strip()


@reads_headers(b"authorization")
async def bearer_token(scope: Scope, security: SecuritySubsystem) -> Principal | None:
    found = _authorization(scope)
    if found is None or found[0] != "bearer":
        return None
    return await security.principal_for_access_token(found[1])


@reads_headers(b"authorization", b"x-api-key")
async def api_key(scope: Scope, security: SecuritySubsystem) -> Principal | None:
    keys = _headers(scope, b"x-api-key")
    found = _authorization(scope)
    if found is not None and found[0] == "apikey":
        keys.append(found[1])
    if not keys:
        return None
    if len(keys) > 1:
        raise InvalidToken("more than one API key")
    return await security.credentials.principal_for_api_key(keys[0].strip())


INVALID_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="webos", error="invalid_token"'}
DEFAULT_AUTHENTICATORS: tuple[Authenticator, ...] = (bearer_token, api_key)


async def authenticate(scope: Scope, security: SecuritySubsystem) -> Principal:
    """The principal of a request; raises ``InvalidToken`` for bad or ambiguous credentials."""
    found = _authorization(scope)
    if found is not None and found[0] not in {"bearer", "apikey"}:
        raise InvalidToken("unsupported authorization scheme")
    if found is not None and found[0] == "bearer" and _headers(scope, b"x-api-key"):
        raise InvalidToken("send one credential, not several")
    for authenticator in security.authenticators:
        principal = await authenticator(scope, security)
        if principal is not None:
            return principal
    return ANONYMOUS


def authentication_middleware(security: SecuritySubsystem) -> Callable[..., ASGIApp]:
    """ASGI middleware (outermost): sets ``scope["user"]`` and ``current_principal``."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            state: Any = scope
            if scope.get(FORWARDED):
                # The gateway authenticated it; the module process restored who it is.
                principal = current_principal.get()
                state["user"] = principal
                state["auth"] = principal.kind
                await app(scope, receive, send)
                return
            read = credential_headers(security.authenticators)
            if read is not None and not _sends_any(scope, read):
                principal = ANONYMOUS  # no credential sent: nothing to parse
            else:
                try:
                    principal = await authenticate(scope, security)
                except InvalidToken as error:
                    raise NotAuthorizedException(
                        explain(error.reason),
                        headers=INVALID_CHALLENGE,
                        extra={"reason": error.reason},
                    ) from None
            state["user"] = principal
            state["auth"] = principal.kind
            token = current_principal.set(principal)
            received = received_identity.set(None)  # work of this request acts for no one else
            try:
                await app(scope, receive, send)
            finally:
                received_identity.reset(received)
                current_principal.reset(token)

        return middleware

    return wrap
