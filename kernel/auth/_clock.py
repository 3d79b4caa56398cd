"""Time helpers shared by access tokens and identity tokens.

Both check ``exp``/``nbf``/``iat`` themselves instead of leaving it to PyJWT, which always reads
the wall clock: taking ``now`` as an argument keeps the rules testable and lets durable deliveries
judge an identity at the time the stream stored the message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any


def timestamp(now: datetime | None) -> float:
    """Seconds since the epoch for ``now`` (the wall clock when None); naive is refused."""
    if now is None:
        return time.time()
    if now.tzinfo is None:
        # A naive datetime would be read as local time, which is almost never what was meant.
        raise ValueError("now must be a timezone-aware datetime")
    return now.timestamp()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def time_problem(claims: Mapping[str, Any], now: float, leeway: float) -> str | None:
    """The reason the token is not valid at ``now`` (``expired``, ``not yet valid``), or None."""
    # exp and iat are always required; nbf is checked when present.
    if not (_number(claims.get("exp")) and _number(claims.get("iat"))):
        return "malformed"
    if "nbf" in claims and not _number(claims["nbf"]):
        return "malformed"
    if claims["exp"] <= now - leeway:
        return "expired"
    if claims.get("nbf", claims["iat"]) > now + leeway or claims["iat"] > now + leeway:
        return "not yet valid"
    return None
