"""Refresh tokens: opaque random strings, stored only as hashes, rotated on every use.

The auth module keeps the records; this file holds the pure rules so they can be tested without a
database. A family is the chain of tokens descending from one login: every refresh marks the
presented token used and issues its successor in the same family. A used token presented again
means two parties hold it (one of them stole it), so the whole family must be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from kernel.auth._clock import timestamp

REFRESH_TTL = timedelta(days=14)

RefreshVerdict = Literal["ok", "unknown", "expired", "reused", "revoked"]


def new_refresh_token() -> str:
    """A fresh opaque refresh token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest to store and look up; a fast hash is enough for 256-bit secrets."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class RefreshRecord:
    """What is stored for one refresh token: never the token, only its hash."""

    token_hash: str
    family: str
    subject: str
    expires_at: datetime
    used_at: datetime | None = None
    revoked: bool = False


def issue_refresh_token(
    subject: str,
    *,
    family: str | None = None,
    ttl: timedelta = REFRESH_TTL,
    now: datetime | None = None,
) -> tuple[str, RefreshRecord]:
    """A new token and the record to store; pass ``family`` when rotating, omit it at login."""
    token = new_refresh_token()
    issued = datetime.fromtimestamp(timestamp(now), UTC)
    record = RefreshRecord(
        token_hash=hash_refresh_token(token),
        family=family or secrets.token_urlsafe(16),
        subject=subject,
        expires_at=issued + ttl,
    )
    return token, record


def refresh_verdict(record: RefreshRecord | None, *, now: datetime | None = None) -> RefreshVerdict:
    """What to do with a presented refresh token, given the record found by its hash.

    ``ok``: rotate it. ``reused``: revoke the whole family and refuse. ``unknown``, ``expired``,
    ``revoked``: refuse.
    """
    if record is None:
        return "unknown"
    if record.revoked:
        return "revoked"
    if record.used_at is not None:
        return "reused"
    if record.expires_at.timestamp() <= timestamp(now):
        return "expired"
    return "ok"
