"""Standalone module processes for tests: the real ``webos module run`` command."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from kernel.nodes import NodeInfo, snapshot


class ModuleProcess:
    """``webos module run NAMES`` as a child process, stopped by the harness after the test."""

    def __init__(self, names: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> None:
        self.names = list(names)
        self._env = dict(env)
        self._cwd = cwd
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        webos = str(Path(sys.executable).parent / "webos")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [webos, "module", "run", *self.names],
            cwd=self._cwd,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_visible(
        self, nats_url: str, timeout: float = 30.0, *, started: bool = False
    ) -> None:
        """Until a node with this pid heartbeats; with ``started``, showing every module of it
        started (a module process then also answers forwarded HTTP requests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"webos module run {self.names} exited:\n{self.output()}")
            nodes = await snapshot(nats_url, wait=0.2)
            if any(node.pid == self.pid and (not started or _started(node)) for node in nodes):
                return
        raise TimeoutError(f"module process {self.names} not visible within {timeout}s")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        process = self.process
        if process is None or process.poll() is not None:
            return process.returncode if process else 0
        process.send_signal(sig)
        code = await asyncio.to_thread(process.wait, timeout)
        self._log.close()
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _started(node: NodeInfo) -> bool:
    return all(module.state == "started" for module in node.modules)


def module_env(nats_url: str, data_dir: Path, modules_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBOS_")}
    env.update(
        WEBOS_NATS_URL=nats_url,
        WEBOS_DATA_DIR=str(data_dir),
        WEBOS_MODULES_PATH=str(modules_path.resolve()),
        WEBOS_HEARTBEAT_INTERVAL="0.5",
    )
    env.update(extra)  # a test may set any of the above, the heartbeat interval included
    return env
