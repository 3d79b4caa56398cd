"""Durable events: at least once, retries, dead letters, replay, delivery after downtime."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kernel.auth import SecuritySubsystem
from kernel.bus import list_dead_letters
from kernel.testing import KernelHarness, write_module

LEDGER_SERVICES = """
from kernel import service

@service("ledger")
class Ledger:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.attempts: dict[str, int] = {}
        self.broken = set()

    async def entries(self) -> list[str]:
        return list(self.seen)
"""

LEDGER_EVENTS = """
from pydantic import BaseModel
from kernel import Event, on, registry

class Order(BaseModel):
    order_id: str

@on("order.placed", durable=True)
async def book(order: Order, event: Event) -> None:
    ledger = registry.get("ledger")
    ledger.attempts[order.order_id] = ledger.attempts.get(order.order_id, 0) + 1
    if order.order_id in ledger.broken:
        raise RuntimeError(f"cannot book {order.order_id}")
    if event.id not in ledger.seen:
        ledger.seen.append(event.id)
"""

SETTINGS = {
    "durable_max_deliver": 3,
    "durable_backoff": 0.05,
    "durable_backoff_max": 0.2,
    "durable_ack_wait": 2.0,  # how soon a killed process's in-flight events are redelivered
}


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "ledger", {"services.py": LEDGER_SERVICES, "events.py": LEDGER_EVENTS})
    return root


async def _until(check, what: str, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_durable_handler_gets_each_event_and_a_republish_is_deduplicated(
    webos: KernelHarness, modules_path: Path
) -> None:
    app = await webos.start(modules_path=modules_path, **SETTINGS)
    ledger = app.kernel.registry.get("ledger")
    bus = app.kernel.bus

    first = await bus.emit("order.placed", {"order_id": "a"})
    await bus.emit("order.placed", {"order_id": "a"}, event_id=first)  # same id: deduplicated
    second = await bus.emit("order.placed", {"order_id": "b"})

    async def both() -> bool:
        return ledger.seen == [first, second]

    await _until(both, "both events")
    await asyncio.sleep(0.3)
    assert ledger.attempts == {"a": 1, "b": 1}


async def test_failing_handler_is_retried_then_dead_lettered_and_replayed_after_fix(
    webos: KernelHarness, modules_path: Path
) -> None:
    app = await webos.start(modules_path=modules_path, **SETTINGS)
    ledger = app.kernel.registry.get("ledger")
    ledger.broken.add("poison")
    js = app.kernel.bus.nats.jetstream()

    event_id = await app.kernel.bus.emit("order.placed", {"order_id": "poison"})

    async def dead_lettered() -> bool:
        return bool(await list_dead_letters(js))

    await _until(dead_lettered, "the dead letter")
    [letter] = await list_dead_letters(js)
    assert ledger.attempts["poison"] == 3
    assert (letter.event_id, letter.subject, letter.module) == (event_id, "order.placed", "ledger")
    assert letter.deliveries == 3
    assert "RuntimeError: cannot book poison" in letter.error
    assert letter.handler.endswith("book")
    assert letter.payload() == {"order_id": "poison"}

    listed = await _webos(webos, "dlq", "list")
    shown = await _webos(webos, "dlq", "show", str(letter.id))
    assert "order.placed" in listed
    assert "cannot book poison" in listed
    assert '"order_id": "poison"' in shown

    ledger.broken.clear()  # the fix
    assert f"replayed 1 dead letter(s): {letter.id}" in await _webos(
        webos, "dlq", "replay", "--all"
    )

    async def booked() -> bool:
        return event_id in ledger.seen

    await _until(booked, "the replayed event")
    assert await list_dead_letters(js) == []


async def test_a_replayed_letter_that_fails_again_comes_back_with_both_errors(
    webos: KernelHarness, modules_path: Path
) -> None:
    app = await webos.start(modules_path=modules_path, **SETTINGS)
    ledger = app.kernel.registry.get("ledger")
    ledger.broken.add("poison")
    js = app.kernel.bus.nats.jetstream()
    event_id = await app.kernel.bus.emit("order.placed", {"order_id": "poison"})

    async def letters() -> list:
        return await list_dead_letters(js)

    await _until(letters, "the dead letter")
    [first] = await letters()
    await _webos(webos, "dlq", "replay", str(first.id))  # not fixed: it fails again at once

    async def back() -> bool:
        return [letter.id for letter in await letters()] not in ([], [first.id])

    await _until(back, "the letter to come back")
    [again] = await letters()
    assert again.event_id == event_id and again.trusted
    assert again.errors == ["RuntimeError: cannot book poison"] * 2
    assert again.history[0]["deliveries"] == 3
    listed = await _webos(webos, "dlq", "list")
    row = next(line for line in listed.splitlines() if line.lstrip().startswith(str(again.id)))
    assert row.split()[3:5] == ["3", "2"]  # tries, errors
    shown = json.loads(await _webos(webos, "dlq", "show", str(again.id)))
    assert shown["replays"] == 1 and len(shown["errors"]) == 2


async def test_invalid_payload_goes_to_dead_letters_without_retries(
    webos: KernelHarness, modules_path: Path
) -> None:
    app = await webos.start(modules_path=modules_path, **SETTINGS)
    js = app.kernel.bus.nats.jetstream()

    await app.kernel.bus.emit("order.placed", {"wrong": "shape"})

    async def dead_lettered() -> bool:
        return bool(await list_dead_letters(js))

    await _until(dead_lettered, "the dead letter")
    [letter] = await list_dead_letters(js)
    assert letter.deliveries == 1
    assert "order_id" in letter.error
    assert app.kernel.registry.get("ledger").attempts == {}


async def test_events_emitted_while_the_module_is_down_arrive_when_it_is_back(
    webos: KernelHarness, modules_path: Path
) -> None:
    first = await webos.start(modules_path=modules_path, **SETTINGS)
    await first.stop()
    gateway = await webos.start(modules_path=modules_path, exclude=["ledger"], **SETTINGS)
    emitted = [
        await gateway.kernel.bus.emit("order.placed", {"order_id": str(i)}) for i in range(5)
    ]
    await gateway.stop()

    back = await webos.start(modules_path=modules_path, **SETTINGS)
    ledger = back.kernel.registry.get("ledger")

    async def all_booked() -> bool:
        return sorted(ledger.seen) == sorted(emitted)

    await _until(all_booked, "events emitted during the downtime")


async def test_gateway_keeps_events_for_a_module_that_never_ran(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["ledger"], **SETTINGS)
    emitted = await gateway.kernel.bus.emit("order.placed", {"order_id": "early"})
    await gateway.stop()

    module = await webos.start(modules_path=modules_path, **SETTINGS)
    ledger = module.kernel.registry.get("ledger")

    async def booked() -> bool:
        return ledger.seen == [emitted]

    await _until(booked, "the event emitted before the module first ran")


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
async def test_stopping_a_module_mid_stream_loses_nothing(
    webos: KernelHarness, modules_path: Path, stop: str
) -> None:
    slow = LEDGER_EVENTS.replace(
        "    if event.id not in ledger.seen:",
        "    import asyncio\n"
        "    await asyncio.sleep(0.05)\n"
        "    await bus.emit('order.booked', {'id': event.id})\n"
        "    if event.id not in ledger.seen:",
    ).replace(
        "from kernel import Event, on, registry", "from kernel import Event, bus, on, registry"
    )
    (modules_path / "ledger" / "events.py").write_text(slow)
    (modules_path / "ledger" / "module.toml").write_text(
        'name = "ledger"\nemits = ["order.booked"]\n'
    )
    gateway = await webos.start(modules_path=modules_path, exclude=["ledger"], **SETTINGS)
    booked = await gateway.subscribe("order.booked")
    env = {f"WEBOS_{k.upper()}": str(v) for k, v in SETTINGS.items()}
    process = await webos.run_module("ledger", modules_path=modules_path, **env)
    emitted = {
        await gateway.kernel.bus.emit("order.placed", {"order_id": str(i)}) for i in range(60)
    }
    seen = {(await booked.next(timeout=15)).json()["id"]}  # it is working through them

    if stop == "SIGKILL":
        process.kill()  # unacked events stay in JetStream and are redelivered
    else:
        # Graceful: the handler in hand finishes and is acked, the rest is handed back.
        assert await process.stop(signal.SIGTERM) == 0
    await webos.run_module("ledger", modules_path=modules_path, **env)

    while not emitted <= seen:
        seen.add((await booked.next(timeout=30)).json()["id"])
    assert emitted <= seen


async def _webos(harness: KernelHarness, *args: str) -> str:
    webos = str(Path(sys.executable).parent / "webos")
    env = {
        **os.environ,
        "WEBOS_NATS_URL": harness.nats_url,
        "WEBOS_DATA_DIR": str(harness.data_dir),
    }
    result = await asyncio.to_thread(
        subprocess.run, [webos, *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_dlq_replay_needs_an_id_or_all(tmp_path: Path) -> None:
    webos = str(Path(sys.executable).parent / "webos")
    result = subprocess.run(
        [webos, "dlq", "replay"], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "give a dead letter ID or --all" in result.stderr


async def test_durable_handler_runs_as_the_caller_even_when_redelivered_late(
    webos: KernelHarness, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from kernel.auth import IDENTITY_HEADER, Principal, sign_identity

    events = (
        "from kernel import on, registry\nfrom kernel.auth import current_principal\n\n"
        "@on('doc.saved', durable=True)\nasync def saved(payload: dict) -> None:\n"
        "    registry.get('seen').append(current_principal.get().id)\n"
    )
    services = "from kernel import service\n\n@service('seen')\ndef seen():\n    return []\n"
    write_module(tmp_path / "m", "papers", {"events.py": events, "services.py": services})
    app = await webos.start(modules_path=tmp_path / "m", **SETTINGS)
    security = app.kernel.get(SecuritySubsystem)
    ada = Principal(id="ada", kind="user", roles={"user"}, permissions={"profile.read"})
    private_key = security.signing.identity_private_key
    token = sign_identity(ada, private_key)

    await app.kernel.bus.emit("doc.saved", {}, headers={IDENTITY_HEADER: token})

    async def seen() -> bool:
        return app.kernel.registry.get("seen") == ["ada"]

    await _until(seen, "the handler to run as ada")

    # A retry an hour later: the identity is judged at the time JetStream stored the event.
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    late = sign_identity(ada, private_key, now=an_hour_ago)
    identity = security.identity
    assert identity is not None
    from kernel.auth import current_principal

    undo = identity.extract({IDENTITY_HEADER: late}, None)
    assert not current_principal.get().is_authenticated, "expired without a stored time"
    undo()
    undo = identity.extract({IDENTITY_HEADER: late}, an_hour_ago)
    assert current_principal.get().id == "ada"
    undo()


async def test_dlq_list_shows_a_long_error_whole_within_80_columns(
    webos: KernelHarness, modules_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await webos.start(modules_path=modules_path, **SETTINGS)
    order = "poison " + " ".join(f"word{n}" for n in range(40))  # an error of about 300 characters
    app.kernel.registry.get("ledger").broken.add(order)
    js = app.kernel.bus.nats.jetstream()
    await app.kernel.bus.emit("order.placed", {"order_id": order})

    async def dead_lettered() -> bool:
        return bool(await list_dead_letters(js))

    await _until(dead_lettered, "the dead letter")
    monkeypatch.setenv("COLUMNS", "80")  # what `webos` reads of the terminal it runs in
    listed = await _webos(webos, "dlq", "list")

    assert f"RuntimeError: cannot book {order}" in " ".join(listed.split())
    assert all(len(line) <= 80 for line in listed.splitlines()[1:]), listed
