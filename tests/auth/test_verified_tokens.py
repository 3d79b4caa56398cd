"""Access tokens checked once each: the cache skips only the signature, never the clock, the
session or another key (``kernel.auth._verified``)."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from kernel.auth import InvalidToken, TokenConfig, issue_access_token
from kernel.auth._verified import VerifiedTokens

NOW = datetime(2030, 1, 1, tzinfo=UTC)
CONFIG = TokenConfig(signing_key=secrets.token_urlsafe(48))


def token(subject: str = "u1", config: TokenConfig = CONFIG) -> str:
    return issue_access_token(config, subject, roles=["user"], now=NOW)


def reason(tokens: VerifiedTokens, value: str, now: datetime, config: TokenConfig = CONFIG) -> str:
    with pytest.raises(InvalidToken) as caught:
        tokens.claims(config, value, now=now)
    return caught.value.reason


def test_a_token_is_checked_once_then_known() -> None:
    tokens, value = VerifiedTokens(), token()
    first = tokens.claims(CONFIG, value, now=NOW)
    first["roles"].append("admin")  # what a reader does to its copy ...
    first["sub"] = "someone else"
    again = tokens.claims(CONFIG, value, now=NOW + timedelta(minutes=1))
    assert again["sub"] == "u1" and len(tokens) == 1  # ... is not what is remembered


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    tokens, value = VerifiedTokens(), token()
    tokens.claims(CONFIG, value, now=NOW)
    assert reason(tokens, value, NOW + timedelta(minutes=16)) == "expired"
    assert len(tokens) == 0
    # The leeway counts as it does for a token seen for the first time.
    tokens.claims(CONFIG, value, now=NOW)
    assert tokens.claims(CONFIG, value, now=NOW + timedelta(minutes=15, seconds=5))["sub"] == "u1"


def test_a_bad_token_is_never_remembered() -> None:
    tokens, value = VerifiedTokens(), token()
    forged = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    assert reason(tokens, forged, NOW) == "bad signature"
    assert reason(tokens, value, NOW - timedelta(minutes=5)) == "not yet valid"
    assert len(tokens) == 0


def test_another_key_forgets_what_the_old_one_vouched_for() -> None:
    tokens, value = VerifiedTokens(), token()
    tokens.claims(CONFIG, value, now=NOW)
    rotated = TokenConfig(signing_key=secrets.token_urlsafe(48))
    assert reason(tokens, value, NOW, config=rotated) == "bad signature"


def test_the_oldest_token_is_forgotten_beyond_the_size() -> None:
    tokens = VerifiedTokens(size=2)
    values = [token(f"u{n}") for n in range(3)]
    assert [tokens.claims(CONFIG, value, now=NOW)["sub"] for value in values] == ["u0", "u1", "u2"]
    assert len(tokens) == 2
