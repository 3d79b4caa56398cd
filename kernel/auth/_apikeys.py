"""API keys: ``wos_<prefix>_<secret>``, stored as a SHA-256 hash plus the prefix.

The prefix (12 hex characters) is not secret: it is stored in clear to find the key's record and
is safe to show in lists ("wos_3f9a1c0b27de_..."). The secret has 256 bits of entropy, so a fast
hash is enough: nobody can guess a preimage, and a slow hash would make every API call expensive.
Letters and digits only, so a double-click selects the whole key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from typing import NamedTuple

API_KEY_PREFIX = "wos"
_PREFIX_BYTES = 6
_SECRET_LENGTH = 43  # 43 base-62 characters carry a little over 256 bits
_ALPHABET = string.ascii_letters + string.digits
_FORMAT = re.compile(
    rf"{API_KEY_PREFIX}_([0-9a-f]{{{_PREFIX_BYTES * 2}}})_([A-Za-z0-9]{{{_SECRET_LENGTH}}})"
)


class GeneratedApiKey(NamedTuple):
    plain: str  # shown to the user once, never stored
    prefix: str
    hash: str


def hash_api_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def generate_api_key() -> GeneratedApiKey:
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    plain = f"{API_KEY_PREFIX}_{prefix}_{secret}"
    return GeneratedApiKey(plain, prefix, hash_api_key(plain))


def parse_api_key(plain: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` for a well-formed key, None otherwise (then do not look it up)."""
    match = _FORMAT.fullmatch(plain) if isinstance(plain, str) else None
    return (match.group(1), match.group(2)) if match else None


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare secrets without leaking, through timing, how long a prefix matched."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def verify_api_key(plain: str, stored_hash: str) -> bool:
    """Does ``plain`` match the stored hash? False for a malformed key."""
    if parse_api_key(plain) is None:
        return False
    return constant_time_equals(hash_api_key(plain), stored_hash)
