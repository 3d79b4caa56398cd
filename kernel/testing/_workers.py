"""``webos worker`` and ``webos scheduler`` as real subprocesses for tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.testing._processes import ModuleProcess, module_env

if TYPE_CHECKING:
    from kernel.testing._harness import KernelHarness


class TaskProcess(ModuleProcess):
    """``webos worker [--modules ...]`` or ``webos scheduler``, stopped by the harness."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
    ) -> None:
        super().__init__(list(command), env, cwd, log)

    def start(self) -> None:
        webos = str(Path(sys.executable).parent / "webos")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [webos, *self.names],
            cwd=self._cwd,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )


def worker_command(modules: Sequence[str], concurrency: int | None = None) -> list[str]:
    command = ["worker"]
    if modules:
        command += ["--modules", ",".join(modules)]
    if concurrency is not None:
        command += ["--concurrency", str(concurrency)]
    return command


async def start_worker(
    harness: KernelHarness,
    processes: list[ModuleProcess],
    modules: Sequence[str],
    *,
    modules_path: Path | None = None,
    concurrency: int | None = None,
    **env: str,
) -> TaskProcess:
    """Start a worker against the harness's NATS; return once its node heartbeats."""
    path = Path(modules_path or harness.modules_path)
    harness.data_dir.mkdir(parents=True, exist_ok=True)
    process = TaskProcess(
        worker_command(modules, concurrency),
        module_env(harness.nats_url, harness.data_dir, path, **env),
        cwd=harness.data_dir.parent,
        log=harness.data_dir / f"worker-{len(processes)}.log",
    )
    process.start()
    processes.append(process)
    await process.wait_visible(harness.nats_url)
    return process
