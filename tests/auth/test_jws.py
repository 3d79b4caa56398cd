"""Identity tokens are checked without PyJWT (``kernel/auth/_jws.py``): the same verdicts.

Tokens come from PyJWT (what the gateway issues) or are forged by hand for what PyJWT refuses to
produce. Every refusal is also checked against PyJWT's own ``jwt.decode`` with the options the
kernel used before, so the two can never drift apart on what is accepted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import ANONYMOUS, IDENTITY_TTL, Principal, sign_identity, verify_identity
from kernel.auth._jws import verified_claims
from kernel.auth._pem import public_pem
from tests.auth.forge import (
    b64,
    flip_signature,
    hs256_with,
    segment,
    unverified_payload,
    with_payload,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
ADA = Principal(id="u1", kind="user", email="ada@example.com", roles={"user"}, permissions={"a.b"})
REQUIRED = ("sub", "kind", "iat", "exp", "iss", "aud", "jti")
CHECK: dict[str, Any] = {
    "audience": "webos-identity",
    "issuer": "webos-gateway",
    "required": REQUIRED,
}


def claims(**changes: Any) -> dict[str, Any]:
    good = unverified_payload(sign_identity(ADA, KEY, now=NOW))
    good.update(changes)
    return {name: value for name, value in good.items() if value is not ...}


def signed(payload: dict[str, Any], **header: Any) -> str:
    """A token signed with the right key, with any header (PyJWT writes alg and typ itself)."""
    head = segment({"alg": "EdDSA", "typ": "JWT", **header})
    body = segment(payload)
    signature = KEY.sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{b64(signature)}"


def pyjwt_accepts(token: str) -> bool:
    options = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "strict_aud": True}
    try:
        jwt.decode(
            token,
            PUBLIC,
            algorithms=["EdDSA"],
            audience="webos-identity",
            issuer="webos-gateway",
            options={**options, "require": list(REQUIRED)},  # type: ignore[typeddict-item]
        )
    except (jwt.InvalidTokenError, RecursionError):
        return False
    return True


def test_tokens_pyjwt_issues_are_read_back_exactly() -> None:
    for principal in (ADA, Principal(id="k", kind="api_key", key_id="k1", permissions={"x"})):
        token = sign_identity(principal, KEY, now=NOW)
        assert verified_claims(token, PUBLIC, **CHECK) == jwt.decode(
            token, options={"verify_signature": False}
        )
        assert verify_identity(token, PUBLIC, now=NOW) == principal


REFUSED = {
    "alg none": (
        f"{segment({'alg': 'none'})}.{segment(claims())}.",
        "algorithm not allowed",
    ),
    "HS256 keyed with the public key": (
        hs256_with(public_pem(PUBLIC), claims()),
        "algorithm not allowed",
    ),
    "alg in another case": (signed(claims(), alg="eddsa"), "algorithm not allowed"),
    "no alg": (signed(claims(), alg=None), "algorithm not allowed"),
    "bad signature": (flip_signature(sign_identity(ADA, KEY, now=NOW)), "bad signature"),
    "another key": (
        sign_identity(ADA, Ed25519PrivateKey.generate(), now=NOW),
        "bad signature",
    ),
    "tampered payload": (with_payload(signed(claims()), claims(perms=["*"])), "bad signature"),
    "short signature": (signed(claims())[:-10], "bad signature"),
    "missing claim": (signed(claims(jti=...)), "missing claim jti"),
    "null claim": (signed(claims(kind=None)), "missing claim kind"),
    "wrong issuer": (signed(claims(iss="someone")), "wrong issuer"),
    "wrong audience": (signed(claims(aud="other")), "wrong audience"),
    "audience in a list": (signed(claims(aud=["webos-identity"])), "wrong audience"),
    "subject not a string": (signed(claims(sub=7)), "malformed"),
    "jti not a string": (signed(claims(jti=7)), "malformed"),
    "typ not JWT": (signed(claims(), typ="JOSE+JSON"), "malformed"),
    "critical extension": (signed(claims(), crit=["b64"], b64=False), "malformed"),
    "two segments": (".".join(signed(claims()).split(".")[:2]), "malformed"),
    "four segments": (signed(claims()) + ".e30", "malformed"),
    "padding": (signed(claims()) + "==", "malformed"),
    "standard base64 alphabet": (signed(claims())[:-3] + "+/" + signed(claims())[-1], "malformed"),
    "space inside": (signed(claims()).replace(".", ". ", 1), "malformed"),
    "header not JSON": (f"{b64(b'{oops')}.{segment(claims())}.AAAA", "malformed"),
    "header a list": (f"{b64(b'[]')}.{segment(claims())}.AAAA", "malformed"),
    "payload a list": (signed([1]), "malformed"),  # type: ignore[arg-type]
    "payload not UTF-8": (
        signed({}).split(".")[0] + "." + b64(b"\xff\xfe") + ".AAAA",
        "bad signature",  # the signature is checked before the payload is read
    ),
    "deeply nested header": (f"{b64(b'[' * 5000)}.{segment(claims())}.AAAA", "malformed"),
}


#: Refused here although PyJWT takes them: the gateway never writes them.
STRICTER = {"typ not JWT", "padding"}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_its_reason_as_pyjwt_refuses_it(case: str) -> None:
    token, reason = REFUSED[case]
    assert verified_claims(token, PUBLIC, **CHECK) == reason
    assert pyjwt_accepts(token) == (case in STRICTER)


def test_a_payload_read_only_after_its_signature_is_checked() -> None:
    body = b64(b"\xff\xfe")
    head = segment({"alg": "EdDSA"})
    token = f"{head}.{body}.{b64(KEY.sign(f'{head}.{body}'.encode()))}"
    assert verified_claims(token, PUBLIC, **CHECK) == "malformed"


@pytest.mark.parametrize(
    ("refused_at", "accepted_at", "reason"),
    [
        (IDENTITY_TTL + timedelta(seconds=10), IDENTITY_TTL + timedelta(seconds=9), "expired"),
        (-timedelta(seconds=11), -timedelta(seconds=10), "not yet valid"),
    ],
)
def test_times_are_checked_with_the_leeway(
    refused_at: timedelta, accepted_at: timedelta, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = sign_identity(ADA, KEY, now=NOW)
    with caplog.at_level(logging.WARNING, logger="kernel.auth.identity"):
        assert verify_identity(token, PUBLIC, now=NOW + refused_at) is ANONYMOUS
    assert reason in caplog.text
    assert verify_identity(token, PUBLIC, now=NOW + accepted_at) == ADA


def test_not_before_is_honoured(caplog: pytest.LogCaptureFixture) -> None:
    later = int(NOW.timestamp()) + 60
    with caplog.at_level(logging.WARNING, logger="kernel.auth.identity"):
        assert verify_identity(signed(claims(nbf=later)), PUBLIC, now=NOW) is ANONYMOUS
    assert "not yet valid" in caplog.text
    at = datetime.fromtimestamp(later, UTC)
    assert verify_identity(signed(claims(nbf=later)), PUBLIC, now=at) == ADA
