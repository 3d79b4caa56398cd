"""Secrets the kernel signs with must be hard to guess: zxcvbn's estimate, at least 128 bits."""

import secrets

import pytest

from kernel.auth._strength import MIN_SECRET_BITS, check_secret_strength, guess_bits
from kernel.errors import ConfigError


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 32,  # 32 bytes, one repeated letter: what production accepted before
        "s" * 48,
        "abcdefghijklmnopqrstuvwxyz012345",  # a sequence
        "correct horse battery staple",
        secrets.token_hex(8),
    ],
)
def test_guessable_secrets_are_refused_naming_the_setting(secret: str) -> None:
    with pytest.raises(ConfigError, match="WEBOS_STORAGE_PRESIGN_SECRET is too easy to guess"):
        check_secret_strength(secret, "WEBOS_STORAGE_PRESIGN_SECRET")


@pytest.mark.parametrize("secret", [secrets.token_hex(32), secrets.token_urlsafe(48)])
def test_generated_secrets_pass(secret: str) -> None:
    assert guess_bits(secret) >= MIN_SECRET_BITS
    check_secret_strength(secret, "WEBOS_SECRET_KEY")
