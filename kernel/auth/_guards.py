"""What route handlers, event handlers and services use to check who is calling.

* ``PUBLIC`` / ``@public``: mark a route that anonymous callers may reach (everything else needs a
  signed-in principal: the gateway denies anonymous callers by default);
* ``requires("files.write")``: a Litestar guard (401 anonymous, 403 lacking the permission);
* ``principal: CurrentPrincipal``: the caller, injected into a route handler;
* ``require_permission("files.write")``: the same check anywhere (event handlers, services),
  raising ``PermissionDenied`` (a kernel error; 401/403 when it escapes a route).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

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


def public(handler: H) -> H:
    """Decorator form of ``opt=PUBLIC``; put it above the route decorator."""
    handler.opt["public"] = True
    return handler


def is_public(handler: BaseRouteHandler) -> bool:
    return handler.opt.get("public") is True


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the authentication middleware resolved for this request."""
    found = connection.scope.get("user")
    return found if isinstance(found, Principal) else current_principal.get()


async def deny_anonymous(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide guard: every route needs a signed-in caller unless it is marked public.

    ``async`` on purpose, like ``requires``: Litestar runs a synchronous guard in a worker
    thread on every request, which cost a third of the gateway's CPU per request (measured).
    """
    if not is_public(handler) and not principal_of(connection).is_authenticated:
        raise NotAuthorizedException(AUTHENTICATION_REQUIRED, headers=CHALLENGE)


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
