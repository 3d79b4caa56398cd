"""A module's stream ([streams.NAME]) is created by the gateway; the module's NATS user may read
its state and messages and write its subjects, and may not create, change or delete a stream, its
own or any other, nor read another module's."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest_asyncio
from nats.js.api import StreamConfig

from kernel.deploy import inspect_modules, nats_users
from kernel.testing import KernelHarness, write_module
from tests.security.hostile import SecuredNats, intruder, secured_nats

DIARY = """
name = "diary"
emits = ["diary.written"]

[streams.DIARY]
subjects = ["diary.written"]
"""
NOTES = """
name = "notes"
emits = ["notes.taken"]

[streams.NOTES]
subjects = ["notes.taken"]
"""
STANDALONE = ("diary", "notes")


@pytest_asyncio.fixture
async def secured(tmp_path: Path) -> AsyncIterator[tuple[SecuredNats, KernelHarness]]:
    modules = tmp_path / "modules"
    write_module(modules, "diary", {}, manifest=textwrap.dedent(DIARY))
    write_module(modules, "notes", {}, manifest=textwrap.dedent(NOTES))
    users = nats_users(inspect_modules(modules), STANDALONE)
    with secured_nats(users, tmp_path) as server:
        harness = KernelHarness(server.url("gateway"), tmp_path / "data", modules)
        try:
            yield server, harness
        finally:
            await harness.close()


async def _refused_request(call: Awaitable[object]) -> None:
    # The server drops a refused request: the caller hears nothing and gives up (the server's
    # log, checked after, is the proof it was refused, not this silence).
    with contextlib.suppress(Exception):
        await call


async def test_a_module_uses_its_stream_but_cannot_create_or_change_one(
    secured: tuple[SecuredNats, KernelHarness],
) -> None:
    server, harness = secured
    gateway = await harness.start(exclude=STANDALONE)  # it creates DIARY, for diary elsewhere
    kept = gateway.kernel.bus.nats.jetstream()

    async with intruder(server, "module-diary", inbox_prefix="_INBOX_module-diary") as diary:
        js = diary.client.jetstream()
        ack = await js.publish("diary.written", b"dear diary")  # what it is entitled to
        assert ack.stream == "DIARY"
        assert (await js.stream_info("DIARY")).state.messages == 1
        assert (await js.get_msg("DIARY", ack.seq)).data == b"dear diary"

        js = diary.client.jetstream(timeout=0.5)
        again = StreamConfig(name="DIARY", subjects=["diary.written", "auth.>"])
        await _refused_request(js.add_stream(again))
        await _refused_request(js.add_stream(StreamConfig(name="DIARY_MORE", subjects=["x.y"])))
        grab = StreamConfig(name="DIARY_GRAB", subjects=["auth.>"])
        await _refused_request(js.add_stream(grab))
        wider = StreamConfig(name="DIARY", subjects=["diary.written", "auth.>"])
        await _refused_request(js.update_stream(wider))
        await _refused_request(js.delete_stream("DIARY"))
        await diary.settle()
    for subject in (
        "$JS.API.STREAM.CREATE.DIARY",
        "$JS.API.STREAM.CREATE.DIARY_MORE",
        "$JS.API.STREAM.CREATE.DIARY_GRAB",
        "$JS.API.STREAM.UPDATE.DIARY",
        "$JS.API.STREAM.DELETE.DIARY",
    ):
        assert await server.refused("module-diary", "Publish", subject), subject

    # Another module, with a stream of its own: it reads that one, never diary's.
    async with intruder(server, "module-notes", inbox_prefix="_INBOX_module-notes") as notes:
        js = notes.client.jetstream()
        assert (await js.stream_info("NOTES")).config.subjects == ["notes.taken"]
        js = notes.client.jetstream(timeout=0.5)
        await _refused_request(js.stream_info("DIARY"))
        await _refused_request(js.get_msg("DIARY", 1))
        await notes.settle()
    assert await server.refused("module-notes", "Publish", "$JS.API.STREAM.INFO.DIARY")
    assert await server.refused("module-notes", "Publish", "$JS.API.STREAM.MSG.GET.DIARY")

    names = [info.config.name for info in await kept.streams_info()]
    assert "DIARY_MORE" not in names and "DIARY_GRAB" not in names
    diary_stream = await kept.stream_info("DIARY")
    assert diary_stream.config.subjects == ["diary.written"]
    assert diary_stream.state.messages == 1
