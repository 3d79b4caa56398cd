"""``webos events tail`` shows events, not the kernel's own traffic, unless asked (--internal)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import nats

from kernel.testing import write_module
from tests.cli.conftest import WEBOS, Gateway, free_port

#: The kernel's own traffic a bare ``webos events tail`` used to print between events.
KERNEL_TRAFFIC = ("webos.node.discover", "_INBOX.tail-test.1", "$JS.API.STREAM.NAMES")


def _publish(url: str, subjects: tuple[str, ...]) -> None:
    async def send() -> None:
        client = await nats.connect(url)
        try:
            for subject in subjects:
                await client.publish(subject, b"{}")
            await client.flush()
        finally:
            await client.close()

    asyncio.run(send())


def _tail(gateway: Gateway, *args: str) -> subprocess.Popen[str]:
    tail = subprocess.Popen(
        [WEBOS, "events", "tail", *args],
        cwd=gateway.workdir,
        env=gateway.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert tail.stdout is not None and "listening" in tail.stdout.readline()
    return tail


def _started(make_gateway, tmp_path: Path) -> Gateway:
    modules = tmp_path / "mods"
    write_module(modules, "shop", {})
    gateway = make_gateway(modules)
    gateway.start()
    gateway.wait_ready()
    return gateway


def test_tail_shows_events_not_kernel_traffic_unless_asked(make_gateway, tmp_path: Path) -> None:
    gateway = _started(make_gateway, tmp_path)
    url = gateway.nats_client_url()

    quiet = _tail(gateway, "--count", "1")
    _publish(url, KERNEL_TRAFFIC)
    assert gateway.command("events", "emit", "shop.sold", "{}").returncode == 0
    shown, _ = quiet.communicate(timeout=20)
    assert shown.splitlines()[0].startswith("shop.sold  "), shown  # the first thing it printed

    loud = _tail(gateway, "--internal", "--count", "3")
    _publish(url, KERNEL_TRAFFIC)
    shown, _ = loud.communicate(timeout=20)
    subjects = [line.split()[0] for line in shown.splitlines() if not line.startswith(" ")]
    assert len(subjects) == 3 and all(s.startswith(("webos.", "_INBOX", "$")) for s in subjects)
    assert set(subjects) & set(KERNEL_TRAFFIC), shown


def test_tail_of_an_internal_subject_says_to_add_internal(tmp_path: Path) -> None:
    # Said before connecting: no server needs to listen there.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    result = subprocess.run(
        [WEBOS, "events", "tail", "$JS.API.>"],
        cwd=tmp_path,
        env={**env, "WEBOS_NATS_URL": f"nats://127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "webos: error: '$JS.API.>' is the kernel's internal traffic: add --internal"
    )
