"""The signed identity on the bus: who emitted reaches the handler; forgeries act as nobody."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import IDENTITY_HEADER, Principal, sign_identity, verify_identity
from kernel.testing import KernelHarness, RunningKernel
from tests.auth.web import (
    PROBE_ROLES,
    bearer,
    security,
    start,
    token_for,
    write_probe,
)


async def _probe(webos: KernelHarness, tmp_path: Path) -> RunningKernel:
    return await webos.start(["probe"], modules_path=write_probe(tmp_path), roles=PROBE_ROLES)


async def test_event_from_a_route_reaches_the_handler_as_the_caller(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _probe(webos, tmp_path)
    runner_id, runner = "runner", token_for(app, "runner", "runner")
    plain = token_for(app, "plain", "user")
    pings = await app.subscribe("probe.ping")
    saw = await app.subscribe("probe.saw")

    assert (await app.client.post("/api/probe/emit", headers=bearer(runner))).status_code == 200
    assert (await saw.next()).json() == {"id": runner_id, "kind": "user", "allowed": True}
    header = (await pings.next()).headers[IDENTITY_HEADER]
    public_key = security(app).signing.identity_public_key
    assert verify_identity(header, public_key).email == "runner@x.org"

    await app.client.post("/api/probe/emit", headers=bearer(plain))
    assert (await saw.next()).json()["allowed"] is False


async def test_forged_identity_on_a_raw_publish_is_anonymous(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _probe(webos, tmp_path)
    saw = await app.subscribe("probe.saw")
    boss = Principal(id="boss", kind="user", email="boss@example.org", permissions={"*"})
    real_key = security(app).signing.identity_private_key
    assert real_key is not None
    genuine = sign_identity(boss, real_key)
    header, payload, signature = genuine.split(".")
    other_payload = sign_identity(
        Principal(id="boss", kind="user", permissions={"*", "more"}), real_key
    ).split(".")[1]
    forgeries = [
        sign_identity(boss, Ed25519PrivateKey.generate()),  # signed with another key
        "garbage",
        f"{header}.{other_payload}.{signature}",  # claims swapped under a genuine signature
        "",
    ]

    for forged in forgeries:
        await app.nats.publish("probe.ping", b"{}", headers={IDENTITY_HEADER: forged})
        assert (await saw.next()).json() == {
            "id": "anonymous",
            "kind": "anonymous",
            "allowed": False,
        }
    await app.nats.publish("probe.ping", b"{}")
    assert (await saw.next()).json()["kind"] == "anonymous"
    # Control: the same raw publish with a header the gateway signed is believed.
    await app.nats.publish("probe.ping", b"{}", headers={IDENTITY_HEADER: genuine})
    assert (await saw.next()).json() == {"id": "boss", "kind": "user", "allowed": True}
    assert payload  # the genuine token had a payload to swap


async def test_anonymous_emits_carry_no_identity(webos: KernelHarness) -> None:
    app = await start(webos, ["greeter"])
    events = await app.subscribe("greeter.>")
    await app.client.post("/api/greeter/hello", json={"name": "Ada"})
    assert IDENTITY_HEADER not in (await events.next()).headers
