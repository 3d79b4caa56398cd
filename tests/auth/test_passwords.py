import pytest
from argon2 import PasswordHasher, Type

from kernel.auth import (
    WeakPassword,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not needs_rehash(hashed)


def test_same_password_hashes_differently() -> None:
    assert hash_password("correct horse battery") != hash_password("correct horse battery")


@pytest.mark.parametrize("attempt", ["wrong horse battery", "", "correct horse battery "])
def test_wrong_password_is_false_not_an_error(attempt: str) -> None:
    assert verify_password(hash_password("correct horse battery"), attempt) is False


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$garbage"])
def test_broken_hash_is_false(stored: str) -> None:
    assert verify_password(stored, "whatever-password") is False


def test_unknown_account_still_hashes_and_is_false() -> None:
    assert verify_password(None, "correct horse battery") is False


def test_weaker_parameters_need_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old = weak.hash("correct horse battery")
    assert verify_password(old, "correct horse battery")
    assert needs_rehash(old)
    assert needs_rehash("not a hash")


@pytest.mark.parametrize(
    ("password", "email", "reason"),
    [
        ("short", None, "at least 10 characters"),
        ("aaaaaaaaaaaa", None, "single repeated character"),
        ("x" * 1025, None, "at most 1024"),
        ("ada.lovelace", "Ada.Lovelace@example.com", "e-mail"),
        ("ada.lovelace@example.com", "ada.lovelace@example.com", "e-mail"),
        ("ada.lovelace-1815", "ada.lovelace@example.com", "e-mail"),
        # Accepted before zxcvbn judged them: long enough, yet among the first guesses.
        ("1234567890", None, "too easy to guess"),
        ("password12", None, "too easy to guess"),
        ("qwertyuiop", None, "too easy to guess"),
        ("xy" * 512, None, "too easy to guess"),
    ],
)
def test_policy_refuses_with_a_reason(password: str, email: str | None, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason) as caught:
        check_password_policy(password, email=email)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("correct horse battery staple", None),
        ("lovelace engine punched cards", "ada@example.com"),
        ("Tr0ub4dor&3 is not my password", "bo@example.com"),  # a short local part is no name
    ],
)
def test_policy_accepts(password: str, email: str | None) -> None:
    check_password_policy(password, email=email)


def test_the_estimate_reads_a_bounded_prefix() -> None:
    """zxcvbn refuses input over 72 characters; a long password is judged by its start."""
    check_password_policy("correct horse battery staple " * 30)
    with pytest.raises(WeakPassword, match="too easy to guess"):
        check_password_policy("password" + "x" * 1000)
