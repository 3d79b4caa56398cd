"""What a caller sees when a part fails under a running gateway: NATS going away and coming back,
a request body over the limit. Real processes, real HTTP; waits are bounded polls, never
wall-clock assertions."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from kernel.testing import KernelHarness, free_port, write_module
from kernel.transport import EmbeddedNats

ROUTER = """
from litestar import post
from litestar.params import JSONBody
from kernel import ThisModule
from kernel.auth import PUBLIC

@post("/notes", opt=PUBLIC)
async def note(data: JSONBody[dict], module: ThisModule) -> dict:
    await module.emit("notes.added", data)
    return {"size": len(data.get("text", ""))}
"""
MANIFEST = 'name = "notes"\nemits = ["notes.added"]\n'


async def _until(
    probe: Callable[[], Awaitable[httpx.Response]],
    accept: Callable[[httpx.Response], bool],
    what: str,
    timeout: float = 30.0,
) -> httpx.Response:
    """Poll until ``accept`` holds; fail naming ``what`` and the last answer otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = await probe()
        if accept(answer):
            return answer
        if loop.time() > deadline:
            raise AssertionError(f"{what} within {timeout}s; last answer {answer.status_code}")
        await asyncio.sleep(0.1)


async def _until_true(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        await asyncio.sleep(0.05)


async def test_ready_names_nats_while_it_is_down_and_recovers(tmp_path: Path) -> None:
    """The test's own nats-server (not the session's): stopped under a running gateway, then
    started again on the same port and store."""
    port, store = free_port(), tmp_path / "nats"
    server = EmbeddedNats(port, store, server_name="webos-outage")
    server.start()
    modules = tmp_path / "mods"
    write_module(modules, "notes", {"router.py": ROUTER}, manifest=MANIFEST)
    harness = KernelHarness(server.url, tmp_path / ".webos")
    try:
        app = await harness.start(modules_path=modules)
        assert (await app.client.get("/ready")).status_code == 200

        server.stop()
        down = await _until(
            lambda: app.client.get("/ready"), lambda r: r.status_code == 503, "/ready turned 503"
        )
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "not connected to NATS" in down.json()["reasons"]
        assert (await app.client.get("/health")).status_code == 200  # alive, just not ready

        server = EmbeddedNats(port, store, server_name="webos-outage")
        server.start()
        await _until(
            lambda: app.client.get("/ready"), lambda r: r.status_code == 200, "/ready back to 200"
        )
        # The test's own NATS client reconnects on its own schedule: wait for it, or its
        # subscription could reach the server after the event it is meant to see.
        await _until_true(lambda: app.nats.is_connected, "the test's NATS client reconnected")
        events = await app.subscribe("notes.added")
        posted = await app.client.post("/api/notes/notes", json={"text": "after the outage"})
        assert posted.status_code == 201, posted.text
        assert (await events.next()).json() == {"text": "after the outage"}
    finally:
        if server.pid is None:  # the test failed while the server was down: stop cleanly
            server = EmbeddedNats(port, store, server_name="webos-outage")
            server.start()
        await harness.close()
        server.stop()


async def test_a_body_over_the_limit_is_413_problem(webos: KernelHarness, tmp_path: Path) -> None:
    write_module(tmp_path, "notes", {"router.py": ROUTER}, manifest=MANIFEST)
    app = await webos.start(modules_path=tmp_path, max_body_size=1000)
    events = await app.subscribe("notes.added")

    too_large = await app.client.post("/api/notes/notes", json={"text": "x" * 2000})
    fits = await app.client.post("/api/notes/notes", json={"text": "x" * 900})

    assert too_large.status_code == 413
    assert too_large.headers["content-type"].startswith("application/problem+json")
    assert too_large.json()["status"] == 413
    assert fits.status_code == 201
    # Events arrive in order: the first one is the note that fitted, the refused one never ran.
    assert len((await events.next()).json()["text"]) == 900
