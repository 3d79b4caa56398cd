"""Typed storage errors.

Every error carries the URN (or mount) it is about, so a log line or an HTTP error body can say
*which* object failed without the caller having to re-attach context.
"""

from __future__ import annotations

from kernel.errors import WebOSError


class StorageError(WebOSError):
    """Base class of every error raised on purpose by :mod:`kernel.storage`."""

    def __init__(self, message: str, *, urn: str | None = None, mount: str | None = None) -> None:
        super().__init__(message)
        self.urn = urn
        self.mount = mount


class InvalidURN(StorageError, ValueError):
    """The URN does not follow the grammar, or tries to escape its mount."""

    http_status = 400


class UnknownMount(StorageError, LookupError):
    """The URN names a mount that AFS was not configured with."""

    http_status = 404


class NotFound(StorageError, LookupError):
    """No object exists at the URN."""

    http_status = 404


class AccessDenied(StorageError):
    """The backend refused the operation (credentials, symlink escape, bad presigned token)."""

    http_status = 403


class AlreadyExists(StorageError):
    """Something that is not a plain object is in the way (a folder where a file should go)."""

    http_status = 409


class PresignUnavailable(StorageError):
    """This process has no secret to sign local presigned URLs with (a deployment choice)."""

    http_status = 503
