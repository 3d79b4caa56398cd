"""Password hashing (argon2id) and the password policy (length, e-mail, zxcvbn score)."""

from __future__ import annotations

from contextlib import suppress
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from kernel.auth._errors import WeakPassword
from kernel.auth._strength import password_weakness

MIN_PASSWORD_LENGTH = 10
# Argon2 itself copes with long input; the cap keeps a login body from being a cheap DoS lever.
MAX_PASSWORD_LENGTH = 1024
MIN_NAME_IN_PASSWORD = 3

# argon2-cffi's defaults follow RFC 9106's second recommended profile; the type is spelled out so
# that a change of library default can never silently downgrade us to argon2i.
_hasher = PasswordHasher(type=Type.ID)


def hash_password(plain: str) -> str:
    """Hash a password with argon2id; the result embeds its own salt and parameters."""
    return _hasher.hash(plain)


@cache
def _dummy_hash() -> str:
    # Computed on first use rather than at import: hashing costs tens of milliseconds.
    return _hasher.hash("webos-dummy-password-for-unknown-accounts")


def verify_password(password_hash: str | None, plain: str) -> bool:
    """True when ``plain`` matches ``password_hash``; False for a mismatch or a broken hash.

    Pass ``None`` for an account that does not exist: the check then runs against a dummy hash so
    that a login for an unknown e-mail takes as long as one with a wrong password (no account
    enumeration by timing), and answers False.
    """
    if password_hash is None:
        with suppress(VerificationError):
            _hasher.verify(_dummy_hash(), plain)
        return False
    try:
        return _hasher.verify(password_hash, plain)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters (or is not ours): re-hash on login."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def check_password_policy(plain: str, *, email: str | None = None) -> None:
    """Raise ``WeakPassword`` when a new password is too easy to guess.

    Length bounds, never the account's e-mail address or its local part, and zxcvbn's score of at
    least 3 (``_strength.py``): it refuses ``1234567890`` and ``password12`` while accepting a few
    uncommon words. No composition rules: they push people to predictable patterns.
    """
    if len(plain) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(plain) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"password must be at most {MAX_PASSWORD_LENGTH} characters long")
    if len(set(plain)) == 1:
        raise WeakPassword("password must not be a single repeated character")
    inputs: list[str] = []
    if email:
        address = email.strip().casefold()
        local = address.partition("@")[0]
        lowered = plain.casefold()
        # A local part of one or two letters is in too many good passwords to forbid.
        if address in lowered or (len(local) >= MIN_NAME_IN_PASSWORD and local in lowered):
            raise WeakPassword("password must not contain the e-mail address")
        inputs = [address, local]
    weakness = password_weakness(plain, inputs)
    if weakness is not None:
        raise WeakPassword(weakness)
