"""The identity propagator on its own: sign, verify, pass on (module processes), never mint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import (
    ANONYMOUS,
    IDENTITY_HEADER,
    IdentityPropagator,
    Principal,
    current_principal,
    sign_identity,
    use_principal,
    verify_identity,
)

KEY = Ed25519PrivateKey.generate()
ADA = Principal(id="u1", kind="user", email="ada@example.org", permissions={"files.read"})


def _outgoing(propagator: IdentityPropagator) -> dict[str, str] | None:
    headers: dict[str, str] = {}
    propagator.inject(headers)
    return headers or None


def test_the_gateway_signs_the_current_principal_and_nothing_for_anonymous() -> None:
    gateway = IdentityPropagator(KEY.public_key(), KEY)
    assert _outgoing(gateway) is None
    with use_principal(ADA):
        headers = _outgoing(gateway)
    assert headers is not None
    assert verify_identity(headers[IDENTITY_HEADER], KEY.public_key()) == ADA


def test_a_module_process_forwards_what_it_received_and_nothing_else() -> None:
    module = IdentityPropagator(KEY.public_key())  # no private key: cannot sign
    token = sign_identity(ADA, KEY)
    undo = module.extract({IDENTITY_HEADER: token}, None)
    try:
        assert current_principal.get() == ADA
        assert _outgoing(module) == {IDENTITY_HEADER: token}
        with use_principal(Principal(id="system:x", kind="system", permissions={"*"})):
            assert _outgoing(module) is None  # cannot vouch for anyone it was not handed
    finally:
        undo()
    assert current_principal.get() == ANONYMOUS
    with use_principal(ADA):
        assert _outgoing(module) is None  # outside the handled work: nothing to forward


def test_bad_headers_read_as_anonymous() -> None:
    gateway = IdentityPropagator(KEY.public_key(), KEY)
    for header in (sign_identity(ADA, Ed25519PrivateKey.generate()), "garbage", ""):
        undo = gateway.extract({IDENTITY_HEADER: header}, None)
        assert current_principal.get() == ANONYMOUS
        assert _outgoing(gateway) is None
        undo()


def test_a_stored_delivery_is_judged_when_it_was_stored_cached_or_not() -> None:
    module = IdentityPropagator(KEY.public_key(), leeway=0)
    sent = datetime(2030, 1, 1, tzinfo=UTC)
    token = sign_identity(ADA, KEY, ttl=timedelta(minutes=5), now=sent)
    # A redelivery an hour later, of a message stored a minute after it was signed.
    for _ in range(2):  # the second look-up comes from the cache
        undo = module.extract({IDENTITY_HEADER: token}, sent + timedelta(minutes=1))
        assert current_principal.get() == ADA
        undo()
    # Stored after the identity expired: nobody, even though the token was verified before.
    undo = module.extract({IDENTITY_HEADER: token}, sent + timedelta(minutes=6))
    assert current_principal.get() == ANONYMOUS
    undo()
