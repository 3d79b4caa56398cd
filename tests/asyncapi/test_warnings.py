"""A gateway warns at start-up of a typed consumer that would refuse what its producer declares."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kernel.testing import KernelHarness, write_module

PRODUCER = """
from pydantic import BaseModel

from kernel.bus import event


class Greeted(BaseModel):
    greeting: str{extra}


Greeted_ = event("hello.greeted", Greeted, description="someone was greeted")
"""

CONSUMER = """
from pydantic import BaseModel

from kernel import on


class Greeted(BaseModel):
    name: str


@on("hello.greeted")
async def remember(payload: Greeted) -> None:
    pass
"""


def _modules(root: Path, producer_fields: str) -> Path:
    write_module(
        root,
        "hello",
        {"events.py": PRODUCER.format(extra=producer_fields)},
        manifest='name = "hello"\nemits = ["hello.greeted"]\n',
    )
    write_module(root, "notes", {"events.py": CONSUMER})
    return root


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "webos.contracts" and r.levelno == logging.WARNING
    ]


async def test_a_consumer_requiring_a_field_the_producer_lacks_is_named_once(
    webos: KernelHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    modules = _modules(tmp_path / "modules", "")
    with caplog.at_level(logging.WARNING, logger="webos.contracts"):
        await webos.start(["hello", "notes"], modules_path=modules)
    assert _warnings(caplog) == [
        "event contract mismatch: hello.greeted: notes's handler "
        "notes.events.remember does not accept what hello declares: "
        "field 'name' is required, and the producer does not send it"
    ]


async def test_modules_running_elsewhere_are_held_to_it_too(
    webos: KernelHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    modules = _modules(tmp_path / "modules", "")
    with caplog.at_level(logging.WARNING, logger="webos.contracts"):
        await webos.start(["hello"], modules_path=modules)  # notes is not run here
    assert len(_warnings(caplog)) == 1
    assert "notes's handler" in _warnings(caplog)[0]


async def test_a_producer_sending_what_the_consumer_needs_is_quiet(
    webos: KernelHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    modules = _modules(tmp_path / "modules", "\n    name: str")
    with caplog.at_level(logging.WARNING, logger="webos.contracts"):
        running = await webos.start(["hello", "notes"], modules_path=modules)
    assert _warnings(caplog) == []
    assert (await running.client.get("/health")).status_code == 200
