"""The gateway creates the streams modules declare (``[streams.NAME]``) before any module starts,
and brings an existing one to its declaration."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.bus._module_streams import (
    ModuleStreamRefused,
    declared_streams,
    ensure_module_streams,
)
from kernel.modules import ModuleStream
from kernel.testing import KernelHarness, write_module

MANIFEST = """
name = "shop"
emits = ["shop.sold"]

[streams.SHOP]
subjects = ["shop.sold"]
max_msgs = 2
"""
# Its startup hook writes to the stream: it must exist by then (no one else creates it).
HOOKS = """
from kernel import ModuleContext, bus, hookimpl

@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    js = bus.nats.jetstream()
    for n in range(3):
        await js.publish("shop.sold", str(n).encode())
"""


async def test_a_declared_stream_exists_when_its_module_starts(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path / "m", "shop", {"hooks.py": HOOKS}, manifest=MANIFEST)
    app = await webos.start(["shop"], modules_path=tmp_path / "m")
    js = app.kernel.bus.nats.jetstream()
    info = await js.stream_info("SHOP")
    assert info.config.subjects == ["shop.sold"]
    assert info.config.max_msgs == 2
    assert info.state.messages == 2  # the oldest of the three went: the limit holds
    assert (await js.get_msg("SHOP", info.state.last_seq)).data == b"2"

    wider = ModuleStream(subjects=("shop.sold",), max_msgs=5)
    await ensure_module_streams(js, declared_streams({"shop": {"SHOP": wider}}), 1)
    assert (await js.stream_info("SHOP")).config.max_msgs == 5


def test_a_stream_two_modules_declare_is_refused() -> None:
    one = ModuleStream(subjects=("shop.sold",))
    with pytest.raises(ModuleStreamRefused, match="'shop' and 'shop_log' both declare stream"):
        declared_streams({"shop": {"SHOP_LOG": one}, "shop_log": {"SHOP_LOG": one}})
