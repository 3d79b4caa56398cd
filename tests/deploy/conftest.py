"""Fixtures for the deployment tests: a real nats-server started with a generated config."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kernel.deploy import NatsUser, ServerOptions, render_nats_config
from kernel.nodes import snapshot
from kernel.transport import find_nats_server


@pytest.fixture(autouse=True)
def _forget_imports() -> Iterator[None]:
    """Reading modules' markers imports them and puts their folder on sys.path: undo both, so
    later tests that use the same module names start clean."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    added = [entry for entry in sys.path if entry not in path]
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        where = getattr(sys.modules[name], "__file__", None) or ""
        if any(where.startswith(entry) for entry in added):
            del sys.modules[name]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SecuredNats:
    """A nats-server running a generated config; ``url(user)`` carries that user's password."""

    port: int
    passwords: dict[str, str]
    log: Path

    def url(self, user: NatsUser) -> str:
        return f"nats://{user.name}:{self.passwords[user.name]}@127.0.0.1:{self.port}"

    def violations(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if "Violation" in line]


@contextlib.contextmanager
def secured_nats(users: list[NatsUser], folder: Path) -> Iterator[SecuredNats]:
    port = free_port()
    options = ServerOptions(listen=f"127.0.0.1:{port}", http=None, store_dir=str(folder / "js"))
    config = folder / "nats.conf"
    config.write_text(render_nats_config(users, options))
    passwords = {user.name: secrets.token_hex(16) for user in users}
    env = {**os.environ, **{user.password_env: passwords[user.name] for user in users}}
    log = folder / "nats.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [find_nats_server(), "--config", str(config)], env=env, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                if process.poll() is not None:
                    pytest.fail(f"nats-server exited:\n{log.read_text()}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                if time.monotonic() > deadline:
                    pytest.fail("nats-server did not listen")
                time.sleep(0.05)
            yield SecuredNats(port, passwords, log)
        finally:
            process.terminate()
            process.wait(10)


@dataclass
class ModuleRun:
    """A ``webos module run`` process under its module's own NATS user."""

    log: Path
    code: int | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def module_process(
    server: SecuredNats, users: dict[str, NatsUser], module: str, modules_path: Path, folder: Path
) -> AsyncIterator[ModuleRun]:
    """Start it, wait until it heartbeats (visible to the CLI user), stop it with SIGTERM after;
    ``code`` is its exit status then."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    env.update(
        WEBOS_NATS_URL=server.url(users[f"module-{module}"]),
        WEBOS_DATA_DIR=str(folder / "data"),
        WEBOS_MODULES_PATH=str(modules_path),
        WEBOS_HEARTBEAT_INTERVAL="0.5",
    )
    run = ModuleRun(folder / f"{module}.log")
    with run.log.open("wb") as out:
        process = await asyncio.to_thread(
            subprocess.Popen,
            [str(Path(sys.executable).parent / "webos"), "module", "run", module],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(60):
                assert process.poll() is None, run.output()
                nodes = await snapshot(server.url(users["cli"]), wait=0.3)
                if any(node.pid == process.pid for node in nodes):
                    break
            else:
                pytest.fail(f"{module} never heartbeated:\n{run.output()}")
            yield run
        finally:
            process.send_signal(signal.SIGTERM)
            run.code = await asyncio.to_thread(process.wait, 15)
