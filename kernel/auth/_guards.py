"""What route handlers, event handlers and services use to check who is calling.

* ``PUBLIC`` / ``@public``: mark a route that anonymous callers may reach (everything else needs a
  signed-in principal: the gateway denies anonymous callers by default);
* ``requires("files.write")``: a Litestar guard (401 anonymous, 403 lacking the permission);
* ``add_app_guard(app_config, check)``: a check every request of the app passes (see ``AppGuards``);
* ``principal: CurrentPrincipal``: the caller, injected into a route handler;
* ``require_permission("files.write")``: the same check anywhere (event handlers, services),
  raising ``PermissionDenied`` (a kernel error; 401/403 when it escapes a route).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Guard, Receive, Scope, Send

from kernel.auth._context import current_principal
from kernel.auth._errors import PermissionDenied
from kernel.auth._permissions import Principal, has_permission, is_valid_permission
from kernel.auth._reasons import AUTHENTICATION_REQUIRED

#: ``@get("/ping", opt=PUBLIC)`` or ``Router(..., opt=PUBLIC)``: anonymous callers allowed.
PUBLIC: Mapping[str, Any] = MappingProxyType({"public": True})
#: Sent with every 401 so that clients know which credentials are expected.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="webos"'}

#: Annotate a route handler parameter ``principal: CurrentPrincipal`` to receive the caller.
CurrentPrincipal = NamedDependency[Principal]

H = TypeVar("H", bound=BaseRouteHandler)

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

#: ``check(scope, handler)`` of an app-wide guard: raise (an ``HTTPException`` or a kernel error)
#: to refuse the request; ``handler`` is the route handler the request was routed to.
AppCheck = Callable[[Scope, BaseRouteHandler], None]


def public(handler: H) -> H:
    """Decorator form of ``opt=PUBLIC``; put it above the route decorator."""
    handler.opt["public"] = True
    return handler


def is_public(handler: BaseRouteHandler) -> bool:
    return handler.opt.get("public") is True


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the authentication middleware resolved for this request."""
    return principal_in(connection.scope)


def principal_in(scope: Scope) -> Principal:
    """``principal_of`` for code that holds the ASGI scope rather than a connection."""
    found = scope.get("user")
    return found if isinstance(found, Principal) else current_principal.get()


def deny_anonymous(scope: Scope, handler: BaseRouteHandler) -> None:
    """App-wide check: every route needs a signed-in caller unless it is marked public."""
    if not is_public(handler) and not principal_in(scope).is_authenticated:
        raise NotAuthorizedException(AUTHENTICATION_REQUIRED, headers=CHALLENGE)


class AppGuards:
    """ASGI middleware: the app's app-wide checks, once per request, after routing.

    Not Litestar guards: Litestar hands every guard its own ``copy.copy`` of the route handler,
    which cost about a fifth of a public route's CPU with two app-wide guards (measured). Every
    app-wide middleware runs after routing, so the routed handler is in the scope. The gateway
    keeps this layer innermost (``innermost_guards``): like guards, the checks run after every
    other middleware, and a refusal is answered here, through the send of the layers around it
    (page headers, the deadline), as a guard's would be.
    """

    def __init__(self) -> None:
        self.checks: list[AppCheck] = []

    def __call__(self, app: ASGIApp) -> ASGIApp:
        checks = tuple(self.checks)  # the app is built: nothing is added to it any more

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "lifespan":
                handler = scope["route_handler"]
                try:
                    for check in checks:
                        check(scope, handler)
                except Exception as error:
                    await _refuse(error, scope, receive, send)
                    return
            await app(scope, receive, send)

        return middleware


async def _refuse(error: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    async def raising(_scope: Scope, _receive: Receive, _send: Send) -> None:
        raise error

    # Litestar's exception layer: the app's exception handlers answer, as for a guard.
    await wrap_in_exception_handler(raising)(scope, receive, send)


def add_app_guard(app_config: AppConfig, check: AppCheck) -> None:
    """Run ``check`` on every request of the app (the app's one ``AppGuards`` layer)."""
    for layer in app_config.middleware:
        if isinstance(layer, AppGuards):
            layer.checks.append(check)
            return
    guards = AppGuards()
    guards.checks.append(check)
    app_config.middleware.append(guards)


def innermost_guards(app_config: AppConfig) -> None:
    """Move the ``AppGuards`` layer after every other middleware (hooks may have added some)."""
    layers = [layer for layer in app_config.middleware if isinstance(layer, AppGuards)]
    for layer in layers:
        app_config.middleware.remove(layer)
    app_config.middleware.extend(layers)


def _check_needed(permissions: tuple[str, ...]) -> None:
    if not permissions:
        raise ValueError("requires() needs at least one permission")
    bad = [p for p in permissions if not is_valid_permission(p) or "*" in p]
    if bad:
        raise ValueError(f"requires(): not a concrete permission: {', '.join(bad)}")


def requires(*permissions: str) -> Guard:
    """A guard letting through callers that hold every one of ``permissions``.

    ``@post("/upload", guards=[requires("files.write")])``. Anonymous or badly authenticated
    callers get 401, signed-in callers lacking a permission 403 (RFC 9457 problem documents).
    """
    _check_needed(permissions)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not principal.is_authenticated:
            raise NotAuthorizedException(AUTHENTICATION_REQUIRED, headers=CHALLENGE)
        missing = [p for p in permissions if not has_permission(principal, p)]
        if missing:
            raise PermissionDeniedException(f"missing permission {', '.join(missing)}")

    guard.__name__ = guard.__qualname__ = f"requires({', '.join(permissions)})"
    return guard


def require_permission(permission: str, principal: Principal | None = None) -> Principal:
    """Raise ``PermissionDenied`` unless the current principal holds ``permission``.

    For event handlers and services, where no HTTP guard runs: the principal is the one the bus
    verified from the event's identity header (``ANONYMOUS`` when it had none or a bad one).
    """
    _check_needed((permission,))
    acting = principal if principal is not None else current_principal.get()
    if not acting.is_authenticated:
        raise PermissionDenied(permission, authenticated=False)
    if not has_permission(acting, permission):
        raise PermissionDenied(permission)
    return acting
