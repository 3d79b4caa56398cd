"""The security subsystem: keys at start-up, identity across processes, authentication over HTTP.

It is the first kernel subsystem after telemetry. At ``start`` it resolves the signing material
(the gateway signs; module processes and workers only verify; production refuses to start without
configured secrets), builds the role map and the login limiter, and adds the identity propagator
to the kernel's propagation seam. ``configure_app`` adds the authentication middleware, the
app-wide "signed in unless public" guard, the ``principal`` dependency and the
``PermissionDenied`` error handler to the app.

Users, refresh tokens and API keys live in the ``auth`` module, which provides a ``Credentials``
implementation through the ``webos_credentials`` hook (:class:`SecurityHookSpecs`); without it,
access tokens are checked on their claims alone and API keys are refused.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import pluggy
from litestar import Request, Response, Router
from litestar.di import Provide

from kernel.auth._addresses import Network, client_address, parse_networks
from kernel.auth._cookies import session_cookie
from kernel.auth._errors import AuthError, InvalidToken, PermissionDenied
from kernel.auth._guards import CHALLENGE, PUBLIC, add_app_guard, deny_anonymous, principal_of
from kernel.auth._identity import HeaderReattest, header_reattester
from kernel.auth._keys import Signing, resolve_signing
from kernel.auth._middleware import (
    DEFAULT_AUTHENTICATORS,
    Authenticator,
    authentication_middleware,
)
from kernel.auth._permissions import Principal, RoleMap, permissions_for
from kernel.auth._propagator import IdentityPropagator
from kernel.auth._ratelimit import LoginLimiter
from kernel.auth._revocations import SessionRevocations
from kernel.auth._settings import AuthSettings
from kernel.auth._verified import VerifiedTokens
from kernel.config import CoreSettings
from kernel.contracts import Host, Role
from kernel.problems import problem
from kernel.propagation import Propagation

if TYPE_CHECKING:
    from litestar.config.app import AppConfig


class Credentials(Protocol):
    """Turns verified credentials into principals (the ``auth`` module provides the real one)."""

    async def principal_for_token(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of a verified access token; raise ``InvalidToken`` to refuse it."""
        ...

    async def principal_for_api_key(self, plain: str) -> Principal:
        """The principal of an API key; raise ``InvalidToken`` to refuse it."""
        ...


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

    http_status = 503


_active: list[SecuritySubsystem] = []


def signing_from_settings(
    core: CoreSettings, auth: AuthSettings, *, signer: bool, mints_tokens: bool | None = None
) -> Signing:
    """Token config and identity keys as the settings describe them (see ``resolve_signing``)."""
    return resolve_signing(
        env=core.env.value,
        secret_key=auth.secret_key,
        data_dir=core.data_dir,
        jwt_algorithm=auth.jwt_algorithm,
        jwt_private_key_file=auth.jwt_private_key_file,
        jwt_public_key_file=auth.jwt_public_key_file,
        identity_private_key_file=auth.identity_private_key_file,
        identity_public_key_file=auth.identity_public_key_file,
        access_token_ttl=auth.access_token_ttl,
        jwt_leeway=auth.jwt_leeway,
        signer=signer,
        mints_tokens=mints_tokens,
    )


def active_security() -> SecuritySubsystem:
    """The started security subsystem of this process (the auth module's routes use it)."""
    if not _active:
        raise NotStarted("the security subsystem is not started")
    return _active[-1]


class SecuritySubsystem:
    """See the module docstring."""

    name = "security"

    def __init__(self) -> None:
        self._signing: Signing | None = None
        self._leeway = 10.0
        self.role_map = RoleMap()
        self.limiter = LoginLimiter()
        self.trusted_proxies: tuple[Network, ...] = ()
        #: Sessions ended before their access tokens expire (logout, refresh-token reuse).
        self.sessions = SessionRevocations()
        self._session_lifetime = 0.0
        #: Access tokens checked once each (their times, session and owner still every time).
        self._verified = VerifiedTokens()
        self.identity: IdentityPropagator | None = None
        self.credentials: Credentials = ClaimsOnly(self.role_map)
        #: Tried in order for each request: headers first, then the console's session cookie.
        self.authenticators: list[Authenticator] = [*DEFAULT_AUTHENTICATORS, session_cookie]
        self._propagation: Propagation | None = None

    @property
    def signing(self) -> Signing:
        if self._signing is None:
            raise NotStarted("the security subsystem is not started")
        return self._signing

    @property
    def can_sign(self) -> bool:
        """Does this process sign identities (the gateway), or only verify them?"""
        return self.identity is not None and self.identity.can_sign

    async def start(self, host: Host) -> None:
        settings = host.get(AuthSettings)
        # The gateway signs for the callers it authenticates, the scheduler for itself.
        signer = host.role in (Role.GATEWAY, Role.SCHEDULER)
        # Only the gateway issues and checks access tokens; no other process holds what mints one.
        self._signing = signing_from_settings(
            host.get(CoreSettings), settings, signer=signer, mints_tokens=host.role is Role.GATEWAY
        )
        self._leeway = settings.jwt_leeway
        self.role_map = RoleMap.from_json(settings.roles, setting="WEBOS_ROLES")
        self.limiter = LoginLimiter(
            max_per_pair=settings.login_max_per_pair,
            max_per_address=settings.login_max_per_address,
            slow_after=settings.login_slow_after,
            max_delay=settings.login_max_delay,
        )
        self.trusted_proxies = parse_networks(settings.trusted_proxies)
        # An access token issued for a session now lives at most this long (seconds).
        self._session_lifetime = settings.access_token_ttl + settings.jwt_leeway
        hooks = host.get(pluggy.PluginManager).hook
        provided = hooks.webos_credentials(role_map=self.role_map)
        self.credentials = provided if provided is not None else ClaimsOnly(self.role_map)
        self.identity = IdentityPropagator(
            self._signing.identity_public_key,
            self._signing.identity_private_key if signer else None,
            leeway=settings.jwt_leeway,
            ttl=timedelta(seconds=settings.identity_ttl),
        )
        self._propagation = host.get(Propagation)
        self._propagation.add(self.identity)
        _active.append(self)

    async def stop(self) -> None:
        propagation, self._propagation = self._propagation, None
        if propagation is not None and self.identity is not None:
            propagation.remove(self.identity)
        if self in _active:
            _active.remove(self)
        self.identity = None
        self.credentials = ClaimsOnly(self.role_map)

    async def check(self) -> str | None:
        return None

    def replay_reattester(self) -> HeaderReattest | None:
        """In a signing process: re-signs a replayed dead letter's caller, judged at the time the
        original event was stored (``kernel.bus.replay_dead_letter``); elsewhere ``None``."""
        private = self._signing.identity_private_key if self._signing else None
        if not self.can_sign or self._signing is None or private is None:
            return None
        return header_reattester(self._signing.identity_public_key, private, leeway=self._leeway)

    async def principal_for_access_token(self, token: str) -> Principal:
        """The principal of an access token; raises ``InvalidToken`` for a bad one, or for one
        whose session has ended (``sid``, see ``_revocations.py``)."""
        config = self.signing.token_config
        if config is None:
            raise InvalidToken("access tokens are checked by the gateway, not this process")
        claims = self._verified.claims(config, token)
        session = claims.get("sid")
        if isinstance(session, str) and self.sessions.is_revoked(session):
            raise InvalidToken("session ended")
        return await self.credentials.principal_for_token(claims)

    async def end_session(self, session: str) -> None:
        """Refuse the access tokens of ``session`` from now on, on every gateway replica."""
        await self.sessions.revoke(session, time.time() + self._session_lifetime)

    def client_address(self, scope: Any) -> str | None:
        """The address a request's throttling counts: the peer, or whom a trusted proxy says."""
        return client_address(scope, self.trusted_proxies)

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        """Authenticate every request, deny anonymous callers on non-public routes."""
        app_config.middleware.insert(0, authentication_middleware(self))
        add_app_guard(app_config, deny_anonymous)
        app_config.dependencies["principal"] = Provide(_provide_principal, sync_to_thread=False)
        app_config.dependencies["reattest"] = Provide(self.replay_reattester, sync_to_thread=False)
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
    status = 403 if exc.authenticated else 401
    response = problem(status, exc.reason, instance=request.url.path)
    if status == 401:
        response.headers.update(CHALLENGE)
    return response
