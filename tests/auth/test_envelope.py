"""The identity envelope on its own: sign, verify, forward (module processes), never mint."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import (
    ANONYMOUS,
    IDENTITY_HEADER,
    IdentityEnvelope,
    Principal,
    current_principal,
    sign_identity,
    use_principal,
    verify_identity,
)
from kernel.bus import Event

KEY = Ed25519PrivateKey.generate()
ADA = Principal(id="u1", kind="user", email="ada@example.org", permissions={"files.read"})


def _event(headers: dict[str, str]) -> Event:
    return Event(id="1", subject="x.y", source=None, time=None, data=b"{}", headers=headers)


def test_the_gateway_signs_the_current_principal_and_nothing_for_anonymous() -> None:
    envelope = IdentityEnvelope(KEY.public_key(), KEY)
    assert envelope.outgoing() is None
    with use_principal(ADA):
        headers = envelope.outgoing()
    assert headers is not None
    assert verify_identity(headers[IDENTITY_HEADER], KEY.public_key()) == ADA


def test_a_module_process_forwards_what_it_received_and_nothing_else() -> None:
    module = IdentityEnvelope(KEY.public_key())  # no private key: cannot sign
    token = sign_identity(ADA, KEY)
    undo = module.incoming(_event({IDENTITY_HEADER: token}))
    try:
        assert current_principal.get() == ADA
        assert module.outgoing() == {IDENTITY_HEADER: token}
        with use_principal(Principal(id="system:x", kind="system", permissions={"*"})):
            assert module.outgoing() is None  # cannot vouch for anyone it was not handed
    finally:
        undo()
    assert current_principal.get() == ANONYMOUS
    with use_principal(ADA):
        assert module.outgoing() is None  # outside the handled event: nothing to forward


def test_bad_headers_read_as_anonymous() -> None:
    envelope = IdentityEnvelope(KEY.public_key(), KEY)
    for header in (sign_identity(ADA, Ed25519PrivateKey.generate()), "garbage", ""):
        undo = envelope.incoming(_event({IDENTITY_HEADER: header}))
        assert current_principal.get() == ANONYMOUS
        assert envelope.outgoing() is None
        undo()
