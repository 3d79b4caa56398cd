"""The identity propagator on its own: sign, verify, pass on (module processes), never mint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import (
    ANONYMOUS,
    IDENTITY_HEADER,
    IdentityPropagator,
    IdentitySigner,
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


def test_a_signed_identity_is_reused_but_never_handed_out_past_its_expiry() -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC).timestamp() + 0.75]
    signer = IdentitySigner(KEY, clock=lambda: now[0])  # one minute, re-signed every 20 s
    first = signer.token(ADA)
    assert signer.token(ADA) == first  # cached, for the same object...
    equal = Principal(id="u1", kind="user", email="ada@example.org", permissions={"files.read"})
    assert signer.token(equal) == first  # ...and for an equal one
    tokens = set()
    for _ in range(400):  # two minutes, in steps of 0.3 s
        token = signer.token(ADA)
        tokens.add(token)
        at = datetime.fromtimestamp(now[0], UTC)
        # Valid when handed out, with no leeway, and with most of its life left.
        assert verify_identity(token, KEY.public_key(), leeway=0, now=at) == ADA
        later = datetime.fromtimestamp(now[0] + 39, UTC)
        assert verify_identity(token, KEY.public_key(), leeway=0, now=later) == ADA
        now[0] += 0.3
    assert 6 <= len(tokens) <= 7  # one signature per 20 s, not one per call
