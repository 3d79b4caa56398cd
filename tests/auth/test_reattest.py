"""Dead-letter replays re-sign the caller's identity as it was when the event was stored."""

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import (
    IDENTITY_HEADER,
    Principal,
    header_reattester,
    sign_identity,
    verify_identity,
)

ADA = Principal(id="ada", kind="user", roles={"user"}, permissions={"profile.read"})


def test_an_old_identity_is_re_signed_when_it_was_valid_at_storage_time() -> None:
    key = Ed25519PrivateKey.generate()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    old = sign_identity(ADA, key, now=an_hour_ago)
    assert not verify_identity(old, key.public_key()).is_authenticated  # expired today

    headers = header_reattester(key.public_key(), key)({IDENTITY_HEADER: old}, an_hour_ago)

    assert verify_identity(headers[IDENTITY_HEADER], key.public_key()).id == "ada"


def test_a_forged_or_missing_identity_is_dropped_not_re_signed() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    reattest = header_reattester(key.public_key(), key)
    forged = sign_identity(ADA, other)

    assert IDENTITY_HEADER not in reattest({IDENTITY_HEADER: forged, "x": "1"}, None)
    assert reattest({"x": "1"}, None) == {"x": "1"}
