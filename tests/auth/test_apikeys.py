import hashlib

import pytest

from kernel.auth import (
    constant_time_equals,
    generate_api_key,
    hash_api_key,
    parse_api_key,
    verify_api_key,
)


def test_generated_key_shape_and_hash() -> None:
    plain, prefix, hashed = generate_api_key()
    assert plain.startswith(f"wos_{prefix}_")
    assert len(prefix) == 12
    assert hashed == hashlib.sha256(plain.encode()).hexdigest() == hash_api_key(plain)
    assert plain not in hashed
    assert parse_api_key(plain) == (prefix, plain.split("_", 2)[2])
    assert verify_api_key(plain, hashed)


def test_keys_are_unique() -> None:
    keys = {generate_api_key().plain for _ in range(200)}
    assert len(keys) == 200


@pytest.mark.parametrize(
    "plain",
    [
        "",
        "wos_",
        "sk_0123456789ab_" + "a" * 43,
        "wos_0123456789AB_" + "a" * 43,  # prefix is lowercase hex
        "wos_0123456789ab_" + "a" * 42,
        "wos_0123456789ab_" + "a" * 43 + "\n",
        "wos_0123456789ab_" + "a" * 42 + "-",
    ],
)
def test_malformed_keys_do_not_parse(plain: str) -> None:
    assert parse_api_key(plain) is None
    assert not verify_api_key(plain, hash_api_key(plain))


def test_wrong_key_does_not_verify() -> None:
    first, second = generate_api_key(), generate_api_key()
    assert not verify_api_key(first.plain, second.hash)


def test_constant_time_equals() -> None:
    assert constant_time_equals("abc", "abc")
    assert constant_time_equals(b"abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")
