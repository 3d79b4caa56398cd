"""Errors of the auth primitives.

Each carries a short ``reason`` meant to be shown to the client as is (a 401 or 422 body): it says
what is wrong without echoing the token or the password back.
"""

from __future__ import annotations

from kernel.errors import WebOSError


class AuthError(WebOSError):
    """Base class of the errors raised by ``kernel.auth``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WeakPassword(AuthError):
    """A new password does not meet the minimum policy; ``reason`` says which rule it broke."""

    http_status = 422


class InvalidToken(AuthError):
    """An access token was refused; ``reason`` is one of a few short, stable phrases.

    The phrases are ``malformed``, ``algorithm not allowed``, ``bad signature``, ``expired``,
    ``not yet valid``, ``wrong audience``, ``wrong issuer``, ``wrong type`` and
    ``missing claim <name>``; the gateway can put them in the 401 body as they are.
    """

    http_status = 401


class PermissionDenied(AuthError):
    """The principal of the work in progress lacks ``permission`` (``require_permission``).

    Over HTTP the gateway answers 403, or 401 when nobody is signed in (``authenticated`` False).
    """

    http_status = 403

    def __init__(self, permission: str, *, authenticated: bool = True) -> None:
        super().__init__(
            f"missing permission {permission}" if authenticated else "authentication required"
        )
        self.permission = permission
        self.authenticated = authenticated
