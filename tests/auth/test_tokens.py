import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import InvalidToken, TokenConfig, decode_access_token, issue_access_token
from kernel.auth._pem import private_pem, public_pem
from kernel.errors import ConfigError
from tests.auth.forge import alg_none, flip_signature, hs256_with, unverified_payload, with_payload

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SECRET = secrets.token_urlsafe(48)
CONFIG = TokenConfig(signing_key=SECRET)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def reason_of(config: TokenConfig, token: str, now: datetime = NOW) -> str:
    with pytest.raises(InvalidToken) as caught:
        decode_access_token(config, token, now=now)
    return caught.value.reason


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "sub": "u1",
        "roles": ["user"],
        "typ": "access",
        "iss": "webos",
        "aud": "webos",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 900,
        "jti": "j1",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def test_roundtrip_hs256() -> None:
    token = issue_access_token(CONFIG, "u1", roles=["user", "admin"], now=NOW)
    decoded = decode_access_token(CONFIG, token, now=NOW + timedelta(minutes=1))
    assert decoded["sub"] == "u1"
    assert decoded["roles"] == ["admin", "user"]
    assert decoded["typ"] == "access"
    assert (decoded["iss"], decoded["aud"]) == ("webos", "webos")
    assert decoded["exp"] - decoded["iat"] == 15 * 60
    assert decoded["nbf"] == decoded["iat"] == int(NOW.timestamp())
    assert decoded["jti"]


def test_every_token_has_its_own_jti() -> None:
    first = issue_access_token(CONFIG, "u1", roles=[], now=NOW)
    second = issue_access_token(CONFIG, "u1", roles=[], now=NOW)
    assert unverified_payload(first)["jti"] != unverified_payload(second)["jti"]


def test_roundtrip_rs256_and_verify_only_config(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = TokenConfig(algorithm="RS256", signing_key=private_pem(rsa_key).decode())
    verifier = TokenConfig(algorithm="RS256", verification_key=public_pem(rsa_key))
    token = issue_access_token(signer, "u1", roles=["user"], extra_claims={"email": "a@b.c"})
    assert decode_access_token(verifier, token)["email"] == "a@b.c"
    assert not verifier.can_sign
    with pytest.raises(ConfigError, match="cannot issue"):
        issue_access_token(verifier, "u1", roles=[])


def test_roundtrip_eddsa() -> None:
    config = TokenConfig(algorithm="EdDSA", signing_key=Ed25519PrivateKey.generate())
    token = issue_access_token(config, "u1", roles=["user"], now=NOW)
    assert decode_access_token(config, token, now=NOW)["sub"] == "u1"


def test_expired_and_leeway() -> None:
    token = issue_access_token(CONFIG, "u1", roles=[], now=NOW)
    end = NOW + timedelta(minutes=15)
    decode_access_token(CONFIG, token, now=end + timedelta(seconds=9))  # inside the 10 s leeway
    assert reason_of(CONFIG, token, end + timedelta(seconds=10)) == "expired"
    strict = TokenConfig(signing_key=SECRET, leeway=0)
    assert reason_of(strict, token, end) == "expired"


def test_not_yet_valid_and_leeway() -> None:
    token = issue_access_token(CONFIG, "u1", roles=[], now=NOW + timedelta(minutes=1))
    assert reason_of(CONFIG, token, NOW) == "not yet valid"
    decode_access_token(CONFIG, token, now=NOW + timedelta(seconds=50))  # 10 s early: leeway
    future_nbf = jwt.encode(claims(nbf=int(NOW.timestamp()) + 60), SECRET, algorithm="HS256")
    assert reason_of(CONFIG, future_nbf) == "not yet valid"


def test_tampered_payload_and_signature() -> None:
    token = issue_access_token(CONFIG, "u1", roles=["user"], now=NOW)
    raised = {**unverified_payload(token), "roles": ["admin"]}
    assert reason_of(CONFIG, with_payload(token, raised)) == "bad signature"
    assert reason_of(CONFIG, flip_signature(token)) == "bad signature"
    other = TokenConfig(signing_key=secrets.token_urlsafe(48))
    assert reason_of(CONFIG, issue_access_token(other, "u1", roles=[], now=NOW)) == "bad signature"


def test_alg_none_is_refused() -> None:
    assert reason_of(CONFIG, alg_none(claims())) == "algorithm not allowed"


def test_algorithm_confusion_hs256_with_the_public_key(rsa_key: rsa.RSAPrivateKey) -> None:
    config = TokenConfig(algorithm="RS256", signing_key=rsa_key)
    forged = hs256_with(public_pem(rsa_key), claims(roles=["admin"]))
    assert reason_of(config, forged) == "algorithm not allowed"
    assert reason_of(config, alg_none(claims())) == "algorithm not allowed"


def test_hs256_refuses_a_key_as_secret(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="not a PEM"):
        TokenConfig(signing_key=public_pem(rsa_key))


def test_wrong_audience_and_issuer() -> None:
    elsewhere = TokenConfig(signing_key=SECRET, audience="billing")
    foreign = TokenConfig(signing_key=SECRET, issuer="someone-else")
    assert reason_of(CONFIG, issue_access_token(elsewhere, "u", roles=[], now=NOW)) == (
        "wrong audience"
    )
    assert reason_of(CONFIG, issue_access_token(foreign, "u", roles=[], now=NOW)) == "wrong issuer"


@pytest.mark.parametrize("missing", ["jti", "exp", "sub", "nbf", "typ"])
def test_missing_claim(missing: str) -> None:
    token = jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256")
    assert reason_of(CONFIG, token) == f"missing claim {missing}"


def test_wrong_type() -> None:
    token = jwt.encode(claims(typ="refresh"), SECRET, algorithm="HS256")
    assert reason_of(CONFIG, token) == "wrong type"


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "x" * 9000, jwt.encode(claims(exp="soon"), SECRET, algorithm="HS256")],
)
def test_malformed(token: str) -> None:
    assert reason_of(CONFIG, token) == "malformed"


def test_roles_must_be_strings() -> None:
    token = jwt.encode(claims(roles="admin"), SECRET, algorithm="HS256")
    assert reason_of(CONFIG, token) == "malformed"


def test_each_failure_has_its_own_reason(rsa_key: rsa.RSAPrivateKey) -> None:
    token = issue_access_token(CONFIG, "u1", roles=[], now=NOW)
    reasons = {
        reason_of(CONFIG, token, NOW + timedelta(hours=1)),
        reason_of(CONFIG, token, NOW - timedelta(hours=1)),
        reason_of(CONFIG, flip_signature(token)),
        reason_of(CONFIG, alg_none(claims())),
        reason_of(CONFIG, jwt.encode(claims(aud="x"), SECRET, algorithm="HS256")),
        reason_of(CONFIG, jwt.encode(claims(iss="x"), SECRET, algorithm="HS256")),
        reason_of(CONFIG, jwt.encode(claims(jti=None), SECRET, algorithm="HS256")),
        reason_of(CONFIG, jwt.encode(claims(typ="id"), SECRET, algorithm="HS256")),
        reason_of(CONFIG, "garbage"),
    }
    assert len(reasons) == 9


def test_extra_claims_cannot_override_reserved_ones() -> None:
    with pytest.raises(ValueError, match="exp, typ"):
        issue_access_token(CONFIG, "u1", roles=[], extra_claims={"typ": "x", "exp": 1})


def test_roles_must_not_be_a_string() -> None:
    with pytest.raises(TypeError):
        issue_access_token(CONFIG, "u1", roles="admin")


def test_config_checks(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="not supported"):
        TokenConfig(algorithm="none", signing_key=SECRET)
    with pytest.raises(ConfigError, match="non-empty"):
        TokenConfig(signing_key="")
    with pytest.raises(ConfigError, match="RSAPrivateKey"):
        TokenConfig(algorithm="RS256", signing_key=Ed25519PrivateKey.generate())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ConfigError, match="does not match"):
        TokenConfig(algorithm="RS256", signing_key=rsa_key, verification_key=other.public_key())
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigError, match="2048"):
        TokenConfig(algorithm="RS256", signing_key=small)
    assert SECRET not in repr(CONFIG)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_access_token(CONFIG, "u1", roles=[], now=datetime(2030, 1, 1))
