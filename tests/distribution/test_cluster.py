"""A 3-node JetStream cluster as WebOS's NATS: every process on the comma-separated list of its
nodes, the kernel's streams and buckets kept on 3 of them, what the status views show, and a node
lost under a running gateway.

One cluster (real nats-servers from the wheel, with credentials, on loopback) serves the whole
file; each test's harness deletes the streams it made. Waits are bounded polls.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio
from nats.js.api import KeyValueConfig, StorageType

from kernel.bus import EVENTS_STREAM, Bus, EventNotStored
from kernel.tasks._broker import stream_config
from kernel.testing import KernelHarness, MessageCollector, RunningKernel, write_module
from kernel.testing._cluster import NatsCluster
from kernel.transport import kernel_streams, nats_servers

WEBOS = str(Path(sys.executable).parent / "webos")
FRONT = {
    "router.py": """
from litestar import post
from litestar.params import JSONBody
from kernel import ThisModule
from kernel.auth import PUBLIC

@post("/call", opt=PUBLIC)
async def call(data: JSONBody[dict], module: ThisModule) -> dict:
    await module.emit("front.called", data)
    return {"called": True}
"""
}
CLERK = {
    "router.py": """
import os
from litestar import get
from kernel.auth import PUBLIC

@get("/hello", sync_to_thread=False, opt=PUBLIC)
def hello() -> dict:
    return {"pid": os.getpid()}
""",
    "events.py": """
import os
from kernel import bus, on

@on("front.called")
async def heard(payload: dict) -> None:
    await bus.emit("clerk.heard", {**payload, "pid": os.getpid()})
""",
}
LEDGER = {
    "events.py": """
from kernel import bus, on

@on("ledger.entry", durable=True)
async def keep(payload: dict) -> None:
    await bus.emit("ledger.kept", payload)
"""
}
#: What a gateway (with the scheduler) and a durable handler make the kernel create.
KERNEL_STREAMS = {
    "WEBOS_EVENTS",
    "WEBOS_DLQ",
    "WEBOS_TASKS",
    "KV_WEBOS_TASK_STATUS",
    "KV_WEBOS_SCHEDULES",
    "KV_WEBOS_SCHEDULE_TICKS",
    "KV_WEBOS_REVOKED_SESSIONS",
    "KV_WEBOS_MODULE_SETTINGS",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    root = tmp_path_factory.mktemp("cluster")
    with NatsCluster(root, user="webos", password=secrets.token_hex(12)) as started:
        yield started


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    root = tmp_path / "modules"
    write_module(root, "front", FRONT, manifest='name = "front"\nemits = ["front.called"]\n')
    write_module(root, "clerk", CLERK, manifest='name = "clerk"\nemits = ["clerk.heard"]\n')
    write_module(root, "ledger", LEDGER, manifest='name = "ledger"\nemits = ["ledger.kept"]\n')
    return root


@pytest_asyncio.fixture
async def harness(
    cluster: NatsCluster, tmp_path: Path, modules: Path
) -> AsyncIterator[KernelHarness]:
    made = KernelHarness(cluster.url, tmp_path / ".webos", modules)
    try:
        yield made
    finally:
        await made.close()


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        await asyncio.sleep(0.05)


async def test_a_gateway_and_a_module_process_on_the_list_of_nodes(
    harness: KernelHarness, cluster: NatsCluster
) -> None:
    assert cluster.url.count(",") == 2 and "@" in cluster.url  # three nodes, with credentials
    app = await harness.start(["front"])
    clerk = await harness.run_module("clerk")  # WEBOS_NATS_URL is the same list
    heard = await app.subscribe("clerk.heard")

    hello = await app.client.get("/api/clerk/hello")
    assert hello.status_code == 200, hello.text
    assert hello.json() == {"pid": clerk.pid}  # answered by the module process
    called = await app.client.post("/api/front/call", json={"n": 1})
    assert called.status_code == 201, called.text
    assert (await heard.next(timeout=10)).json() == {"n": 1, "pid": clerk.pid}


async def test_streams_and_buckets_get_three_copies_and_existing_ones_are_raised(
    harness: KernelHarness, cluster: NatsCluster
) -> None:
    """WEBOS_TASKS and a schedule bucket made with one copy before the gateway starts (as an
    older version, or another process, left them) are raised in place: their data stays."""
    client = await nats.connect(**nats_servers(cluster.url).connect_options())
    try:
        js = client.jetstream()
        await js.add_stream(stream_config(3600.0))
        await js.publish("webos.tasks.nobody.noop", b"{}")
        await js.create_key_value(
            KeyValueConfig(bucket="WEBOS_SCHEDULES", storage=StorageType.FILE)
        )
        before = {info.config.name: info.config.num_replicas for info in await kernel_streams(js)}
        assert before == {"WEBOS_TASKS": 1, "KV_WEBOS_SCHEDULES": 1}

        app = await harness.start(["ledger"], jetstream_replicas=3, tasks_scheduler=True)

        streams = {info.config.name: info for info in await kernel_streams(js)}
        assert set(streams) == KERNEL_STREAMS
        for name, info in streams.items():
            assert info.config.num_replicas == 3, name
            assert len(info.cluster.replicas or []) == 2, name
        assert streams["WEBOS_TASKS"].state.messages == 1  # the same stream, not a new one
    finally:
        await client.close()

    answer = await app.client.get("/api/system/bus", headers=app.auth_headers())
    assert answer.status_code == 200, answer.text
    shown = {stream["name"]: stream for stream in answer.json()["streams"]}
    assert set(shown) == KERNEL_STREAMS
    nodes = {node.name for node in cluster.nodes}
    for name, stream in shown.items():
        assert stream["replicas"] == 3, name
        assert stream["leader"] in nodes, name
        peers = {peer["name"] for peer in stream["peers"]}
        assert peers == nodes - {stream["leader"]}, name
    card = await app.client.get("/console/dashboard/summary", headers=app.auth_headers())
    assert card.status_code == 200, card.text
    for name, stream in shown.items():  # the console's System card lists them too
        assert f'data-stream="{name}"' in card.text
        assert f"<td>{stream['leader']}</td>" in card.text
    kept = await app.subscribe("ledger.kept")
    await app.kernel.bus.emit("ledger.entry", {"n": 1})  # stored on three nodes, then handled
    assert (await kept.next(timeout=10)).json() == {"n": 1}


async def test_webos_ps_on_the_list_shows_nodes_and_streams(
    harness: KernelHarness, cluster: NatsCluster
) -> None:
    app = await harness.start(["ledger"], jetstream_replicas=3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    env["WEBOS_NATS_URL"] = cluster.url
    result = await asyncio.to_thread(
        subprocess.run,
        [WEBOS, "ps", "--collect", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert app.kernel.node_id in result.stdout
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert rows["STREAM"][:3] == ["STREAM", "REPLICAS", "LEADER"]
    for name in ("WEBOS_EVENTS", "WEBOS_DLQ", "WEBOS_TASKS", "KV_WEBOS_TASK_STATUS"):
        assert rows[name][1] == "3", result.stdout
        assert rows[name][2] in {node.name for node in cluster.nodes}, result.stdout
    assert cluster.password not in result.stdout + result.stderr


def _records(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "webos.nats" and text in r.getMessage()
    ]


def _connected_node(app: object, cluster: NatsCluster) -> str:
    port = app.kernel.bus.nats.connected_url.port  # type: ignore[attr-defined]
    return next(node.name for node in cluster.nodes if node.port == port)


async def _called_and_heard(
    app: RunningKernel, heard: MessageCollector, data: dict[str, Any]
) -> Any:
    """``/api/front/call`` until a subscriber hears its event (bounded), every answer a 201.

    After a node dies the test's client may come back on another node than the gateway's. Its
    server knows the new subscription at once (the harness flushes), but the gateway's node
    learns of it over the route a moment later, and core NATS delivers only to interest known
    there. Calling again tells a late route apart from a gateway that no longer emits."""
    for _ in range(10):
        called = await app.client.post("/api/front/call", json=data)
        assert called.status_code == 201, called.text
        try:
            return (await heard.next(timeout=1.0)).json()
        except TimeoutError:
            continue
    raise AssertionError("no front.called event reached the subscriber in 10 calls")


async def test_the_node_a_gateway_is_on_killed_is_logged_once_and_it_moves_on(
    harness: KernelHarness, cluster: NatsCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webos.nats")
    app = await harness.start(["front"])
    victim = _connected_node(app, cluster)
    cluster.kill(victim)  # SIGKILL: no goodbye
    try:
        stats = app.kernel.bus.stats
        await until(lambda: stats()["connection"]["recoveries"] == 1, "the gateway reconnected")
        lost, back = _records(caplog, "lost ("), _records(caplog, "connection re-established")
        assert len(lost) == 1 and len(back) == 1, (lost, back)
        assert cluster.node(victim).url in lost[0]
        survivor = _connected_node(app, cluster)
        assert survivor != victim and cluster.node(survivor).url in back[0]
        assert cluster.password not in caplog.text
        await until(lambda: app.nats.is_connected, "the test's own client reconnected")
        heard = await app.subscribe("front.called")
        assert (await _called_and_heard(app, heard, {"after": victim})) == {"after": victim}
    finally:
        cluster.restart(victim)


async def test_one_url_with_credentials_reaches_the_nodes_the_cluster_announces(
    cluster: NatsCluster, tmp_path: Path, modules: Path
) -> None:
    """Credentials go to every server, not only the URL's: with one node's URL, a process
    reaches another node after that one dies (nats-py alone would offer them none)."""
    first = cluster.nodes[0].name
    harness = KernelHarness(cluster.node_url(first), tmp_path / ".webos", modules)
    try:
        app = await harness.start(["front"])
        assert _connected_node(app, cluster) == first
        cluster.kill(first)
        try:
            stats = app.kernel.bus.stats
            await until(lambda: stats()["connection"]["recoveries"] == 1, "reconnected elsewhere")
            assert _connected_node(app, cluster) != first
            assert (await app.client.get("/ready")).status_code == 200
        finally:
            cluster.restart(first)
    finally:
        await harness.close()


BOOKS = """
from kernel import on

LEDGER = {ledger!r}

@on("book.entry", durable=True)
async def book(payload: dict) -> None:
    with open(LEDGER, "a") as ledger:
        ledger.write(f"{{payload['n']}}\\n")
"""
LANES = 4  # emits in flight at once: some of them meet the election


class Emits:
    """Callers emitting numbered kept events until told to stop, and what each one heard."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.stored: set[int] = set()
        self.refused: set[int] = set()
        self.unexpected: list[BaseException] = []
        self._next = 0
        self._stop = asyncio.Event()

    async def _lane(self) -> None:
        while not self._stop.is_set():
            n, self._next = self._next, self._next + 1
            try:
                await self.bus.emit("book.entry", {"n": n}, durable=True)
            except EventNotStored:
                self.refused.add(n)  # the caller was told: not stored, retry
            except Exception as error:  # any other answer is a bug this test reports
                self.unexpected.append(error)
            else:
                self.stored.add(n)

    async def run_while(self, trouble: Callable[[], Awaitable[None]]) -> None:
        lanes = [asyncio.create_task(self._lane()) for _ in range(LANES)]
        try:
            await trouble()
        finally:
            self._stop.set()
            await asyncio.gather(*lanes)


async def test_no_acknowledged_event_is_lost_when_the_stream_leader_is_killed(
    cluster: NatsCluster, tmp_path: Path
) -> None:
    """A gateway on the node list with 3 replicas; the WEBOS_EVENTS leader dies (SIGKILL) under a
    steady flow of kept emits. Each emit either returned (stored) or raised EventNotStored: every
    one that returned is handled by the durable handler, once the cluster has a new leader."""
    ledger = tmp_path / "ledger.txt"
    modules = tmp_path / "books"
    write_module(modules, "books", {"events.py": BOOKS.format(ledger=str(ledger))})
    harness = KernelHarness(cluster.url, tmp_path / ".webos", modules)
    victim = None
    try:
        app = await harness.start(["books"], jetstream_replicas=3)
        js = app.kernel.bus.nats.jetstream()
        assert (await js.stream_info(EVENTS_STREAM)).config.num_replicas == 3
        emits = Emits(app.kernel.bus)

        async def kill_the_leader() -> None:
            nonlocal victim
            await until(lambda: len(emits.stored) >= 50, "events stored before the kill")
            victim = (await js.stream_info(EVENTS_STREAM)).cluster.leader
            cluster.kill(victim)
            before = len(emits.stored | emits.refused)
            # Emits meet the election, then go on under the new leader: progress, not time.
            await until(
                lambda: len(emits.stored | emits.refused) >= before + 20, "emits answered", 60
            )
            leader = await _leader_other_than(js, victim)
            after = len(emits.stored)
            await until(lambda: len(emits.stored) >= after + 50, f"stored under {leader}", 60)

        await emits.run_while(kill_the_leader)
        assert not emits.unexpected, emits.unexpected
        # Everything the stream holds delivered and acknowledged: the ledger is then complete.
        await _drained(js)
    finally:
        await harness.close()
        if victim is not None:
            cluster.restart(victim)
    booked = {int(line) for line in ledger.read_text().split()}
    lost = sorted(emits.stored - booked)
    assert not lost, f"{len(lost)} events acknowledged as stored were never handled: {lost[:20]}"
    # Both outcomes are counted; print them for whoever reads the run (-s).
    print(f"stored {len(emits.stored)}, refused (EventNotStored) {len(emits.refused)}")


async def _leader_other_than(js: Any, victim: str) -> str:
    """The stream's new leader once one is elected (bounded polling: a failure bound)."""
    for _ in range(600):
        try:
            leader = (await js.stream_info(EVENTS_STREAM)).cluster.leader
        except (TimeoutError, nats.errors.Error):  # no leader yet: ask again
            leader = None
        if leader and leader != victim:
            return str(leader)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no new leader of {EVENTS_STREAM} after {victim} was killed")


async def _drained(js: Any) -> None:
    """Wait until every consumer of WEBOS_EVENTS has nothing pending or unacknowledged."""
    for _ in range(900):  # a failure bound, not a speed requirement
        try:
            consumers = await js.consumers_info(EVENTS_STREAM)
        except (TimeoutError, nats.errors.Error):  # a leader moving: ask again
            consumers = []
        if consumers and all(c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the consumers of {EVENTS_STREAM} never caught up")
