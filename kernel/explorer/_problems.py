"""The explorer's errors: each answers with its own status, its message naming what to fix."""

from __future__ import annotations

from kernel.errors import WebOSError


class ModelNotFound(WebOSError):
    """No such model, or one the caller may not read (the same answer, on purpose)."""

    http_status = 404


class RecordNotFound(WebOSError):
    """No document with this id in the model."""

    http_status = 404


class WritePermissionMissing(WebOSError):
    """The caller may read the model but not change it (``<module>.<model>.write``)."""

    http_status = 403


class BadQuery(WebOSError):
    """A list query names an unknown field or carries a cursor this model never issued."""

    http_status = 400


class InvalidRecord(WebOSError):
    """What was sent does not make a valid document: the message per field in ``errors``."""

    http_status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


class DuplicateRecord(InvalidRecord):
    """A unique index already holds this value; reported on the fields people typed."""

    http_status = 409
