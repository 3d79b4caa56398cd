"""The security subsystem: keys at start-up, identity on the bus, authentication over HTTP.

It is the first kernel subsystem. At ``start`` it resolves the signing material (the gateway
signs; module processes and workers only verify; production refuses to start without configured
secrets), builds the role map and the login limiter, and adds the identity envelope to the bus.
``configure_app`` adds the authentication middleware, the app-wide "signed in unless public"
guard, the ``principal`` dependency and the ``PermissionDenied`` error handler to the gateway.

Users, refresh tokens and API keys live in the ``auth`` module, which plugs a ``Credentials``
implementation in at its startup; without it, access tokens are checked on their claims alone and
API keys are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from litestar import Request, Response, Router
from litestar.config.app import AppConfig
from litestar.di import Provide

from kernel.auth._cookies import session_cookie
from kernel.auth._envelope import IdentityEnvelope
from kernel.auth._errors import AuthError, InvalidToken, PermissionDenied
from kernel.auth._forwarded import IdentitySigner, IdentityVerifier
from kernel.auth._guards import CHALLENGE, PUBLIC, deny_anonymous, principal_of
from kernel.auth._keys import Signing, resolve_signing
from kernel.auth._middleware import (
    DEFAULT_AUTHENTICATORS,
    Authenticator,
    authentication_middleware,
)
from kernel.auth._permissions import Principal, RoleMap, permissions_for
from kernel.auth._ratelimit import LoginLimiter

if TYPE_CHECKING:
    from kernel.runtime import Kernel
    from kernel.settings import KernelSettings


class Credentials(Protocol):
    """Turns verified credentials into principals (the ``auth`` module provides the real one)."""

    async def principal_for_token(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of a verified access token; raise ``InvalidToken`` to refuse it."""

    async def principal_for_api_key(self, plain: str) -> Principal:
        """The principal of an API key; raise ``InvalidToken`` to refuse it."""


class ClaimsOnly:
    """Without the auth module: trust a verified token's roles, refuse every API key."""

    def __init__(self, role_map: RoleMap) -> None:
        self.role_map = role_map

    async def principal_for_token(self, claims: Mapping[str, Any]) -> Principal:
        roles = frozenset(claims.get("roles", []))
        email = claims.get("email")
        return Principal(
            id=str(claims["sub"]),
            kind="user",
            email=email if isinstance(email, str) else None,
            roles=roles,
            permissions=permissions_for(roles, self.role_map),
        )

    async def principal_for_api_key(self, plain: str) -> Principal:
        raise InvalidToken("API keys need the auth module")


class NotStarted(AuthError):
    """The security subsystem is used outside a started kernel."""


_active: list[SecuritySubsystem] = []


def signing_from_settings(settings: KernelSettings, *, signer: bool) -> Signing:
    """Token config and identity keys as the kernel's settings describe them."""
    return resolve_signing(
        env=settings.env.value,
        secret_key=settings.secret_key,
        data_dir=settings.data_dir,
        jwt_algorithm=settings.jwt_algorithm,
        jwt_private_key_file=settings.jwt_private_key_file,
        jwt_public_key_file=settings.jwt_public_key_file,
        identity_private_key_file=settings.identity_private_key_file,
        identity_public_key_file=settings.identity_public_key_file,
        access_token_ttl=settings.access_token_ttl,
        jwt_leeway=settings.jwt_leeway,
        signer=signer,
    )


def active_security() -> SecuritySubsystem:
    """The started security subsystem of this process (the auth module plugs into it)."""
    if not _active:
        raise NotStarted("the security subsystem is not started")
    return _active[-1]


class SecuritySubsystem:
    """See the module docstring. ``kernel.subsystems[0]`` on a default kernel."""

    name = "security"

    def __init__(self) -> None:
        self._signing: Signing | None = None
        self.role_map = RoleMap()
        self.limiter = LoginLimiter()
        self.envelope: IdentityEnvelope | None = None
        self.forward_signer: IdentitySigner | None = None
        self.forward_verifier: IdentityVerifier | None = None
        self.credentials: Credentials = ClaimsOnly(self.role_map)
        #: Tried in order for each request: headers first, then the console's session cookie.
        self.authenticators: list[Authenticator] = [*DEFAULT_AUTHENTICATORS, session_cookie]
        self.refresh_token_ttl = 14 * 24 * 3600.0
        self._kernel: Kernel | None = None

    @property
    def signing(self) -> Signing:
        if self._signing is None:
            raise NotStarted("the security subsystem is not started")
        return self._signing

    @property
    def settings(self) -> KernelSettings:
        if self._kernel is None:
            raise NotStarted("the security subsystem is not started")
        return self._kernel.settings

    @property
    def can_sign(self) -> bool:
        """Does this process sign identities (the gateway), or only verify them?"""
        return self.envelope is not None and self.envelope.can_sign

    async def start(self, kernel: Kernel) -> None:
        settings = kernel.settings
        signer = kernel.role == "gateway"
        self._signing = signing_from_settings(settings, signer=signer)
        self.role_map = RoleMap.from_json(settings.roles, setting="WEBOS_ROLES")
        self.credentials = ClaimsOnly(self.role_map)
        self.limiter = LoginLimiter(
            max_per_account=settings.login_max_per_account,
            max_per_address=settings.login_max_per_address,
        )
        self.refresh_token_ttl = settings.refresh_token_ttl
        self.envelope = IdentityEnvelope(
            self._signing.identity_public_key,
            self._signing.identity_private_key if signer else None,
            leeway=settings.jwt_leeway,
        )
        kernel.bus.envelopes.append(self.envelope)
        # Forwarded HTTP requests carry the gateway's principal (kernel.auth._forwarded).
        self.forward_signer = (
            IdentitySigner(self._signing.identity_private_key)
            if signer and self._signing.identity_private_key is not None
            else None
        )
        self.forward_verifier = IdentityVerifier(
            self._signing.identity_public_key, leeway=settings.jwt_leeway
        )
        self._kernel = kernel
        _active.append(self)

    async def stop(self) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is not None and self.envelope in kernel.bus.envelopes:
            kernel.bus.envelopes.remove(self.envelope)
        if self in _active:
            _active.remove(self)
        self.envelope = None
        self.forward_signer = self.forward_verifier = None
        self.credentials = ClaimsOnly(self.role_map)

    async def check(self) -> str | None:
        return None

    def configure_app(self, app_config: AppConfig, kernel: Kernel) -> AppConfig:
        """Authenticate every request, deny anonymous callers on non-public routes."""
        app_config.middleware.insert(0, authentication_middleware(self))
        app_config.guards.append(deny_anonymous)
        app_config.dependencies["principal"] = Provide(_provide_principal, sync_to_thread=False)
        app_config.exception_handlers[PermissionDenied] = _permission_denied
        openapi = app_config.openapi_config
        if openapi is not None and openapi.openapi_router is None:
            # The schema and its viewers are public documentation.
            router = Router(
                openapi.path or "/schema",
                route_handlers=[],
                include_in_schema=False,
                opt=dict(PUBLIC),
            )
            openapi.openapi_router = router
        return app_config


def _provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


def _permission_denied(request: Request[Any, Any, Any], exc: PermissionDenied) -> Response[Any]:
    from kernel.gateway._problems import problem

    status = 403 if exc.authenticated else 401
    response = problem(status, exc.reason, instance=request.url.path)
    if status == 401:
        response.headers.update(CHALLENGE)
    return response
