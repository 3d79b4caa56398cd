"""Saved module settings in the NATS KV bucket ``WEBOS_MODULE_SETTINGS``, one key per module.

Each value is the module's whole saved state with who changed what::

    {"values": {"greeting": "Hi"}, "by": "user-id", "fields": ["greeting"], "at": "...Z"}

The bucket keeps the last ``HISTORY`` revisions of each key (NATS KV's limit): the history of
changes. The gateway creates it with the kernel's replicas. Writers (the gateway's routes, the
CLI) use the KV API; a module process reads its own key only (``read_key``: a direct get whose
API subject names the key, so its NATS user is allowed exactly that, never another module's
secrets) when ``webos.settings.updated`` says it changed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.errors import NoRespondersError
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BadRequestError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
    NotFoundError,
)

from kernel.errors import WebOSError
from kernel.transport import add_bucket

BUCKET = "WEBOS_MODULE_SETTINGS"
STREAM = f"KV_{BUCKET}"
HISTORY = 64  # the most NATS KV keeps per key

log = logging.getLogger("webos.livesettings")


class SettingsChangedMeanwhile(WebOSError):
    """Someone saved the module's settings between this writer's read and its write."""

    http_status = 409


def key_subject(module: str) -> str:
    """The subject a module's saved settings are stored on."""
    return f"$KV.{BUCKET}.{module}"


def direct_get_subject(module: str) -> str:
    """The JetStream API subject that reads the module's latest saved settings."""
    return f"$JS.API.DIRECT.GET.{STREAM}.{key_subject(module)}"


@dataclass(frozen=True)
class Saved:
    """One revision of a module's saved settings."""

    values: dict[str, Any] = field(default_factory=dict)
    by: str | None = None
    fields: tuple[str, ...] = ()
    at: str | None = None
    revision: int = 0

    @classmethod
    def decode(cls, data: bytes | None, revision: int) -> Saved:
        if not data:  # a deleted or purged key: nothing saved
            return cls(revision=revision)
        record = json.loads(data)
        if not isinstance(record, dict) or not isinstance(record.get("values"), dict):
            raise ValueError("not a saved-settings record")
        return cls(
            values=record["values"],
            by=record.get("by"),
            fields=tuple(record.get("fields") or ()),
            at=record.get("at"),
            revision=revision,
        )

    def history_entry(self) -> dict[str, Any]:
        """Who changed which fields when; never the values (some may be secret)."""
        return {
            "revision": self.revision,
            "by": self.by,
            "fields": list(self.fields),
            "at": self.at,
        }


def encode(values: dict[str, Any], by: str, fields: list[str]) -> bytes:
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps({"values": values, "by": by, "fields": fields, "at": at}).encode()


async def open_bucket(js: Any, replicas: int) -> Any:
    """The bucket, created if missing (the gateway's start; two racing both succeed)."""
    try:
        return await js.key_value(BUCKET)
    except BucketNotFoundError:
        pass
    config = KeyValueConfig(bucket=BUCKET, history=HISTORY, storage=StorageType.FILE, direct=True)
    try:
        return await add_bucket(js, config, replicas)
    except BadRequestError:
        return await js.key_value(BUCKET)


async def read_key(js: Any, module: str) -> Saved:
    """The module's latest saved settings (nothing saved yet, or no bucket yet: empty)."""
    try:
        message = await js.get_msg(STREAM, subject=key_subject(module), direct=True)
    except (NotFoundError, NoRespondersError):
        return Saved()
    headers = message.headers or {}
    if headers.get("KV-Operation") in ("DEL", "PURGE"):
        return Saved(revision=message.seq or 0)
    return Saved.decode(message.data, message.seq or 0)


class SettingsStore:
    """Reads and writes every module's key (the gateway and the CLI)."""

    def __init__(self, kv: Any) -> None:
        self._kv = kv

    @classmethod
    async def open(cls, js: Any, replicas: int = 1) -> SettingsStore:
        return cls(await open_bucket(js, replicas))

    async def read(self, module: str) -> Saved:
        try:
            entry = await self._kv.get(module)
        except KeyNotFoundError:
            return Saved()
        return Saved.decode(entry.value, entry.revision or 0)

    async def write(
        self, module: str, values: dict[str, Any], by: str, fields: list[str], *, after: int
    ) -> int:
        """Save, unless someone saved since revision ``after`` (0: nothing was saved)."""
        data = encode(values, by, fields)
        try:
            if after == 0:
                return int(await self._kv.create(module, data))
            return int(await self._kv.update(module, data, last=after))
        except (KeyWrongLastSequenceError, BadRequestError) as error:
            raise SettingsChangedMeanwhile(
                f"the settings of {module!r} were changed meanwhile; reload and try again"
            ) from error

    async def history(self, module: str) -> list[dict[str, Any]]:
        """The kept revisions, newest first."""
        try:
            entries = await self._kv.history(module)
        except NoKeysError:
            return []
        found = []
        for entry in entries:
            try:
                found.append(Saved.decode(entry.value, entry.revision or 0).history_entry())
            except ValueError:  # not written by us: shown as nobody's change, not hidden
                log.warning("unreadable revision %s of %s in %s", entry.revision, module, BUCKET)
                found.append({"revision": entry.revision, "by": None, "fields": [], "at": None})
        return list(reversed(found))
