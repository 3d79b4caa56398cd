"""Identities on forwarded requests: signed once a minute per principal, verified once each."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import ANONYMOUS, IdentitySigner, IdentityVerifier, sign_identity
from kernel.auth._permissions import Principal

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
ADA = Principal(id="ada", kind="user", roles=frozenset({"clerk"}), permissions={"desk.read"})


def test_a_principal_keeps_its_identity_until_it_changes() -> None:
    key = Ed25519PrivateKey.generate()
    signer = IdentitySigner(key)
    verifier = IdentityVerifier(key.public_key())

    first = signer.token(ADA)
    assert signer.token(ADA) == first  # reused, not signed again
    demoted = Principal(id="ada", kind="user", roles=frozenset({"user"}))
    assert signer.token(demoted) != first
    assert verifier.principal(signer.token(demoted)) == demoted
    assert verifier.principal(first) == ADA


def test_an_identity_is_signed_again_once_its_reuse_is_over() -> None:
    signer = IdentitySigner(Ed25519PrivateKey.generate(), reuse=timedelta(0))
    assert signer.token(ADA) != signer.token(ADA)
    with pytest.raises(ValueError, match="less than its lifetime"):
        IdentitySigner(Ed25519PrivateKey.generate(), reuse=timedelta(minutes=5))


def test_forged_expired_and_missing_identities_vouch_for_nobody() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    verifier = IdentityVerifier(key.public_key(), leeway=0)

    assert verifier.principal(None) is ANONYMOUS
    assert verifier.principal("not-a-token") is ANONYMOUS
    assert verifier.principal(sign_identity(ADA, other)) is ANONYMOUS
    expired = sign_identity(ADA, key, ttl=timedelta(seconds=1), now=LONG_AGO)
    assert verifier.principal(expired) is ANONYMOUS


def test_the_verifier_forgets_the_oldest_beyond_its_size() -> None:
    key = Ed25519PrivateKey.generate()
    verifier = IdentityVerifier(key.public_key(), size=2)
    tokens = [sign_identity(Principal(id=f"u{n}", kind="user"), key) for n in range(3)]
    assert [verifier.principal(token).id for token in tokens] == ["u0", "u1", "u2"]
    assert len(verifier._verified) == 2 and tokens[0] not in verifier._verified
