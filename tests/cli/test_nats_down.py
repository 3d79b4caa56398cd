"""Every command that needs NATS, as a user runs it with nobody listening: one line and exit 1
within a few seconds; with ``--wait`` it keeps trying until a stop signal (exit 0) or NATS
answers. Real subprocesses; "NATS down" is a loopback port with nothing on it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from kernel.testing import write_module
from kernel.transport import EmbeddedNats, load_or_create_credentials
from tests.cli.conftest import REPO_MODULES, WEBOS, free_port

#: The first contact's bound in these tests (WEBOS_NATS_CONNECT_TIMEOUT), and the stop bound.
CONNECT_TIMEOUT = "1"
SHUTDOWN_TIMEOUT = 3
#: Failure bounds only: without the fix these commands never end on their own.
ENDS_WITHIN = 60

COMMANDS = {
    "run": ["run"],
    "module run": ["module", "run", "greeter"],
    "worker": ["worker"],
    "scheduler": ["scheduler"],
    "events emit": ["events", "emit", "shop.sold", '{"sku": "lamp"}'],
    "events tail": ["events", "tail"],
    "ps": ["ps"],
    "dlq list": ["dlq", "list"],
}
#: What each long-running role and a one-shot command say when a stop ends their wait.
STOPPED = {
    "run": "stopped before start-up completed",
    "module run": "stopped before start-up completed",
    "worker": "stopped before start-up completed",
    "scheduler": "stopped before start-up completed",
    "events emit": "stopped before the event was published",
}


def _env(tmp_path: Path, nats_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")},
        "WEBOS_NATS_URL": nats_url,
        "WEBOS_NATS_CONNECT_TIMEOUT": CONNECT_TIMEOUT,
        "WEBOS_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
        "WEBOS_PORT": str(free_port()),
        "WEBOS_DATA_DIR": str(tmp_path / ".webos"),
        "WEBOS_MODULES_PATH": str(REPO_MODULES),
        **extra,
    }


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [WEBOS, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], text: str, within: float = 60) -> str:
    """The output up to ``text`` (bounded polling: a failure bound).

    Reads the pipe's descriptor, not ``readline``: a line left in the text wrapper's buffer
    would never wake ``select`` again, and the wait would miss a line that already came."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    seen = ""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([descriptor], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(descriptor, 65536)
        if not chunk:
            break  # the process ended
        seen += chunk.decode(errors="replace")
        if text in seen:
            return seen
    raise AssertionError(f"{text!r} never came; output:\n{seen}")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_fails_with_one_line_when_nats_is_down(command: str, tmp_path: Path) -> None:
    address = f"nats://127.0.0.1:{free_port()}"
    env = _env(tmp_path, address)

    result = subprocess.run(
        [WEBOS, *COMMANDS[command]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=ENDS_WITHIN,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"webos: error: cannot reach NATS at {address} (connection refused); start it or set "
        "WEBOS_NATS_URL; --wait keeps trying"
    ), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("command", list(STOPPED))
def test_wait_keeps_trying_until_a_stop_signal(command: str, sig: int, tmp_path: Path) -> None:
    address = f"nats://127.0.0.1:{free_port()}"
    process = _start([*COMMANDS[command], "--wait"], _env(tmp_path, address), tmp_path)
    try:
        _read_until(process, f"waiting for NATS at {address} (connection refused)")
        time.sleep(float(CONNECT_TIMEOUT))  # past the bound a command without --wait has
        assert process.poll() is None, "--wait gave up"

        process.send_signal(sig)
        # A failure bound: the stop bound, plus the interpreter's exit on a loaded machine.
        code = process.wait(SHUTDOWN_TIMEOUT + 10)
        output = process.stdout.read()
    finally:
        process.kill()

    assert code == 0, output  # a requested stop
    assert STOPPED[command] in output, output


def test_emit_with_wait_publishes_once_nats_comes(tmp_path: Path) -> None:
    folder = tmp_path / "nats"
    port = free_port()
    url = load_or_create_credentials(folder).url("127.0.0.1", port)
    emit = _start(["events", "emit", "shop.sold", "{}", "--wait"], _env(tmp_path, url), tmp_path)
    server = EmbeddedNats(port, folder)
    try:
        _read_until(emit, f"waiting for NATS at nats://webos:***@127.0.0.1:{port}")
        server.start()

        code = emit.wait(ENDS_WITHIN)
        output = emit.stdout.read()
    finally:
        emit.kill()
        server.stop()

    assert code == 0, output
    assert len(output.strip().splitlines()[-1]) >= 16, output  # the event id


HANGING_START = """
import asyncio
import logging

from kernel import hookimpl

@hookimpl
async def webos_startup(module):
    logging.getLogger("stuck").warning("stuck: starting, forever")
    await asyncio.Event().wait()
"""


def test_a_signal_stops_a_start_up_hook_that_never_ends(tmp_path: Path, nats_server) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "stuck", {"hooks.py": HANGING_START})
    env = _env(tmp_path, nats_server.url, WEBOS_MODULES_PATH=str(modules))
    process = _start(["module", "run", "stuck"], env, tmp_path)
    try:
        _read_until(process, "stuck: starting, forever")
        process.send_signal(signal.SIGTERM)
        code = process.wait(SHUTDOWN_TIMEOUT + 10)
        output = process.stdout.read()
    finally:
        process.kill()

    assert code == 0, output
    assert "stopped before start-up completed" in output, output
    assert f"within its bound of {SHUTDOWN_TIMEOUT}s" in output, output
