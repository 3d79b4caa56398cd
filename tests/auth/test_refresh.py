import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kernel.auth import (
    hash_refresh_token,
    issue_refresh_token,
    new_refresh_token,
    refresh_verdict,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_tokens_are_random_and_stored_hashed() -> None:
    token = new_refresh_token()
    assert len(token) >= 43
    assert token != new_refresh_token()
    assert hash_refresh_token(token) == hashlib.sha256(token.encode()).hexdigest()


def test_rotation_keeps_the_family() -> None:
    token, record = issue_refresh_token("u1", now=NOW)
    assert record.token_hash == hash_refresh_token(token)
    assert record.expires_at == NOW + timedelta(days=14)
    _, successor = issue_refresh_token("u1", family=record.family, now=NOW)
    assert successor.family == record.family
    _, other_login = issue_refresh_token("u1", now=NOW)
    assert other_login.family != record.family


def test_verdicts() -> None:
    _, record = issue_refresh_token("u1", ttl=timedelta(hours=1), now=NOW)
    assert refresh_verdict(record, now=NOW) == "ok"
    assert refresh_verdict(None, now=NOW) == "unknown"
    assert refresh_verdict(record, now=NOW + timedelta(hours=1)) == "expired"
    assert refresh_verdict(replace(record, used_at=NOW), now=NOW) == "reused"
    assert refresh_verdict(replace(record, revoked=True, used_at=NOW), now=NOW) == "revoked"
