"""Hostile processes against a real nats-server configured with the generated permissions.

- ``secured_nats(users, folder)`` runs nats-server with ``render_nats_config(users)`` and a fresh
  password per user; ``server.url(name)`` connects as that user, ``server.violations(name)``
  reads what the server refused it (from its log).
- ``intruder(server, "module-spy")`` is a raw NATS client under one generated user doing what a
  compromised process of that user could: subscribe and publish whatever it likes, with any
  inbox prefix. It records the errors the server sends back.
- ``module_process(server, module, ...)`` runs ``webos module run MODULE`` under its module's
  user, as a deployment does.

A test of a fence shows both sides: the intruder is refused (a violation, or nothing received)
while it, or the legitimate process, still gets what it is entitled to, so the test cannot pass
merely because nothing happened.
"""

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
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest

from kernel.deploy import NatsUser, ServerOptions, render_nats_config
from kernel.nodes import snapshot
from kernel.transport import find_nats_server

WEBOS = str(Path(sys.executable).parent / "webos")


@contextlib.contextmanager
def restored_imports() -> Iterator[None]:
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
    users: dict[str, NatsUser]
    passwords: dict[str, str]
    log: Path

    def url(self, user: NatsUser | str) -> str:
        name = user if isinstance(user, str) else user.name
        return f"nats://{name}:{self.passwords[name]}@127.0.0.1:{self.port}"

    def violations(self, user: str | None = None) -> list[str]:
        """The server's log lines about refused publishes and subscriptions (of ``user``)."""
        lines = [line for line in self.log.read_text().splitlines() if "Violation" in line]
        return [line for line in lines if user is None or f'/user:{user}"' in line]

    async def refused(self, user: str, kind: str, subject: str, timeout: float = 5.0) -> bool:
        """Whether the server logged a ``kind`` ("Publish", "Subscription") violation of
        ``user`` on ``subject`` (waited for: the log is written as the server gets to it)."""
        wanted = f'{kind} Violation - Subject "{subject}"'
        deadline = time.monotonic() + timeout  # a failure bound, not a speed requirement
        while time.monotonic() < deadline:
            if any(wanted in line for line in self.violations(user)):
                return True
            await asyncio.sleep(0.05)
        return False


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
            yield SecuredNats(port, {user.name: user for user in users}, passwords, log)
        finally:
            process.terminate()
            process.wait(10)


@dataclass
class Overheard:
    """What one subscription of an intruder received."""

    messages: list[Any] = field(default_factory=list)

    async def keep(self, msg: Any) -> None:
        self.messages.append(msg)

    @property
    def subjects(self) -> list[str]:
        return [msg.subject for msg in self.messages]

    def contains(self, secret: bytes) -> bool:
        """Whether ``secret`` was in any message's body or headers."""
        return any(
            secret in msg.data or secret in str(msg.headers or {}).encode() for msg in self.messages
        )


@dataclass
class Intruder:
    """A raw NATS client under a generated user (see the module docstring)."""

    name: str
    client: Any
    errors: list[str] = field(default_factory=list)

    async def _error(self, error: Exception) -> None:
        self.errors.append(str(error))

    async def listen(self, subject: str) -> Overheard:
        overheard = Overheard()
        await self.client.subscribe(subject, cb=overheard.keep)
        await self.settle()
        return overheard

    async def publish(
        self, subject: str, data: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        await self.client.publish(subject, data, headers=dict(headers) if headers else None)
        await self.settle()

    async def settle(self) -> None:
        """Round trips: the server has handled (or refused) everything sent before."""
        for _ in range(2):
            with contextlib.suppress(Exception):
                await self.client.flush(timeout=2)


@contextlib.asynccontextmanager
async def intruder(
    server: SecuredNats, user: str, *, inbox_prefix: str = "_INBOX"
) -> AsyncIterator[Intruder]:
    """Connect as ``user``; ``inbox_prefix`` is the attacker's to choose (nats-py's default)."""
    hostile = Intruder(user, None)
    hostile.client = await nats.connect(
        server.url(user),
        error_cb=hostile._error,
        inbox_prefix=inbox_prefix,
        allow_reconnect=False,
        name=f"intruder-{user}",
    )
    try:
        yield hostile
    finally:
        await hostile.client.close()


@dataclass
class ModuleRun:
    """A ``webos module run`` process under its module's own NATS user."""

    log: Path
    pid: int = 0
    code: int | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def module_process(
    server: SecuredNats,
    users: Mapping[str, NatsUser],
    module: str,
    modules_path: Path,
    folder: Path,
    **env: str,
) -> AsyncIterator[ModuleRun]:
    """Start it, wait until it heartbeats with its module started (as the CLI user sees it), stop
    it with SIGTERM after;
    ``code`` is its exit status then. Its data folder is ``folder / "data"`` (share it with a
    gateway to share the development identity keys)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    environment.update(
        WEBOS_NATS_URL=server.url(users[f"module-{module}"]),
        WEBOS_DATA_DIR=str(folder / "data"),
        WEBOS_MODULES_PATH=str(modules_path),
        WEBOS_HEARTBEAT_INTERVAL="0.5",
    )
    environment.update(env)
    run = ModuleRun(folder / f"{module}.log")
    with run.log.open("wb") as out:
        process = await asyncio.to_thread(
            subprocess.Popen,
            [WEBOS, "module", "run", module],
            env=environment,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        run.pid = process.pid
        try:
            for _ in range(60):
                assert process.poll() is None, run.output()
                nodes = await snapshot(server.url(users["cli"]), wait=0.3)
                mine = [node for node in nodes if node.pid == process.pid]
                if mine and all(module.state == "started" for module in mine[0].modules):
                    break
            else:
                pytest.fail(f"{module} never heartbeated:\n{run.output()}")
            yield run
        finally:
            process.send_signal(signal.SIGTERM)
            run.code = await asyncio.to_thread(process.wait, 15)
