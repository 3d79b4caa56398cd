import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import (
    ANONYMOUS,
    IDENTITY_HEADER,
    IDENTITY_TTL,
    Principal,
    TokenConfig,
    current_principal,
    get_principal,
    issue_access_token,
    reattest,
    sign_identity,
    system_principal,
    use_principal,
    verify_identity,
)
from kernel.auth._pem import public_pem
from tests.auth.forge import alg_none, hs256_with, unverified_payload, with_payload

NOW = datetime(2030, 1, 1, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
ADA = Principal(
    id="u1",
    kind="user",
    email="ada@example.com",
    roles=frozenset({"user"}),
    permissions=frozenset({"profile.read", "files.*"}),
)


def refused(token: str | bytes | None, caplog: pytest.LogCaptureFixture, reason: str) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kernel.auth.identity"):
        assert verify_identity(token, PUBLIC, now=NOW) is ANONYMOUS
    assert reason in caplog.text
    assert IDENTITY_HEADER in caplog.text


def test_header_name() -> None:
    assert IDENTITY_HEADER == "webos-identity"


def test_roundtrip_keeps_the_principal() -> None:
    token = sign_identity(ADA, KEY, now=NOW)
    assert verify_identity(token, PUBLIC, now=NOW + IDENTITY_TTL * 0.9) == ADA
    assert verify_identity(token.encode(), PUBLIC, now=NOW) == ADA
    claims = unverified_payload(token)
    assert claims["iss"] == "webos-gateway"
    assert claims["aud"] == "webos-identity"
    assert claims["exp"] - claims["iat"] == IDENTITY_TTL.total_seconds() == 60
    assert claims["perms"] == ["files.*", "profile.read"]
    assert claims["jti"]


def test_an_api_key_travels_as_its_owner_with_its_key_id() -> None:
    key = Principal(id="u1", kind="api_key", permissions={"files.read"}, key_id="k9")
    token = sign_identity(key, KEY, now=NOW)
    assert unverified_payload(token)["key"] == "k9"
    restored = verify_identity(token, PUBLIC, now=NOW)
    assert restored == key and restored.id == "u1" and restored.key_id == "k9"
    assert verify_identity(sign_identity(ADA, KEY, now=NOW), PUBLIC, now=NOW).key_id is None


@pytest.mark.parametrize(
    ("kind", "key"), [("api_key", None), ("api_key", ""), ("user", "k9"), ("api_key", 7)]
)
def test_a_key_id_only_with_an_api_key(
    kind: str, key: object, caplog: pytest.LogCaptureFixture
) -> None:
    claims = {**unverified_payload(sign_identity(ADA, KEY, now=NOW)), "kind": kind, "key": key}
    refused(jwt.encode(claims, KEY, algorithm="EdDSA"), caplog, "malformed")


def test_system_principal_roundtrip() -> None:
    system = system_principal("scheduler")
    assert verify_identity(sign_identity(system, KEY), PUBLIC) == system


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_anonymous_without_warning(
    header: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert verify_identity(header, PUBLIC) is ANONYMOUS
    assert not caplog.records


@pytest.mark.parametrize("header", ["garbage", "a.b.c", b"\xff\xfe", "x" * 20000])
def test_garbage_is_anonymous(header: str | bytes, caplog: pytest.LogCaptureFixture) -> None:
    refused(header, caplog, "malformed")


def test_forged_with_another_key(caplog: pytest.LogCaptureFixture) -> None:
    forged = sign_identity(system_principal("evil"), Ed25519PrivateKey.generate(), now=NOW)
    refused(forged, caplog, "bad signature")


def test_tampered_claims(caplog: pytest.LogCaptureFixture) -> None:
    token = sign_identity(ADA, KEY, now=NOW)
    escalated = {**unverified_payload(token), "perms": ["*"]}
    refused(with_payload(token, escalated), caplog, "bad signature")


def test_expired(caplog: pytest.LogCaptureFixture) -> None:
    token = sign_identity(ADA, KEY, now=NOW - IDENTITY_TTL - timedelta(minutes=1))
    refused(token, caplog, "expired")
    # Within the leeway it still passes.
    late = sign_identity(ADA, KEY, now=NOW - IDENTITY_TTL + timedelta(seconds=5))
    assert verify_identity(late, PUBLIC, now=NOW) == ADA


def test_issued_in_the_future(caplog: pytest.LogCaptureFixture) -> None:
    refused(sign_identity(ADA, KEY, now=NOW + timedelta(minutes=1)), caplog, "not yet valid")


def test_hs256_signed_with_the_public_key(caplog: pytest.LogCaptureFixture) -> None:
    claims = unverified_payload(sign_identity(system_principal("x"), KEY, now=NOW))
    refused(hs256_with(public_pem(PUBLIC), claims), caplog, "algorithm not allowed")
    refused(alg_none(claims), caplog, "algorithm not allowed")


def test_an_access_token_is_not_an_identity(caplog: pytest.LogCaptureFixture) -> None:
    config = TokenConfig(algorithm="EdDSA", signing_key=KEY)
    token = issue_access_token(config, "u1", roles=["admin"], now=NOW)
    refused(token, caplog, "missing claim kind")


def test_durable_delivery_judged_at_stored_time() -> None:
    token = sign_identity(ADA, KEY, now=NOW)
    stored = NOW + timedelta(seconds=3)
    assert verify_identity(token, PUBLIC, now=NOW + timedelta(hours=2)) is ANONYMOUS
    assert verify_identity(token, PUBLIC, now=stored) == ADA


def test_reattest_keeps_the_principal_with_a_fresh_lifetime() -> None:
    original = sign_identity(ADA, KEY, now=NOW)
    later = NOW + timedelta(hours=1)
    renewed = reattest(verify_identity(original, PUBLIC, now=NOW), KEY, now=later)
    assert verify_identity(renewed, PUBLIC, now=later) == ADA
    assert unverified_payload(renewed)["jti"] != unverified_payload(original)["jti"]


def test_anonymous_signed_is_anonymous() -> None:
    assert verify_identity(sign_identity(ANONYMOUS, KEY), PUBLIC) is ANONYMOUS


def test_only_ed25519_keys() -> None:
    with pytest.raises(TypeError):
        sign_identity(ADA, b"secret")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_identity("x", KEY)  # type: ignore[arg-type]


def test_current_principal_defaults_to_anonymous() -> None:
    assert get_principal() is ANONYMOUS
    with use_principal(ADA):
        assert get_principal() == ADA
        assert current_principal.get() == ADA
    assert get_principal() is ANONYMOUS
