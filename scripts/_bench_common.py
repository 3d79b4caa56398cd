"""Shared pieces of ``scripts/bench.py``: figures, the benchmark context and child workers.

Benchmarks that need separate OS processes run ``python scripts/_bench_<name>.py ...`` children
that speak one JSON object per line over stdin/stdout (see :class:`Worker`). A child exits on
``{"op": "quit"}`` or as soon as its stdin closes, so nothing outlives the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent


def make_payload(seq: int) -> dict[str, Any]:
    """The ~200-byte record every payload benchmark sends (bus, rpc, http echo)."""
    return {
        "seq": seq,
        "user_id": "user-000042",
        "email": "ada.lovelace@example.com",
        "action": "login",
        "ip": "127.0.0.1",
        "agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "tags": ["web", "mfa"],
        "score": 0.875,
        "ok": True,
    }


@dataclass(slots=True)
class Figure:
    """One comparison: ``value`` (WebOS) against ``baseline``.

    ``ratio`` is value/baseline when more is better and baseline/value when less is better, so
    a ratio above 1 always means WebOS does better than the baseline.
    """

    name: str
    value: float
    unit: str
    baseline: float
    ratio: float

    @classmethod
    def compare(
        cls, name: str, value: float, baseline: float, unit: str, *, higher_is_better: bool
    ) -> Figure:
        if higher_is_better:
            ratio = value / baseline if baseline else float("nan")
        else:
            ratio = baseline / value if value else float("nan")
        return cls(name, round(value, 4), unit, round(baseline, 4), round(ratio, 4))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class BenchContext:
    """What every benchmark gets: a running nats-server and a place for extra details."""

    nats_url: str
    monitor_url: str
    tmp_dir: Path
    quick: bool = False
    nats_pid: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def server_varz(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.monitor_url}/varz", timeout=5) as response:
            return json.loads(response.read())


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


class WorkerError(RuntimeError):
    pass


class Worker:
    """A child process driven by JSON lines; its stderr goes to the terminal."""

    def __init__(self, label: str, argv: list[str]) -> None:
        self.label = label
        self.argv = argv
        self._process: asyncio.subprocess.Process | None = None

    async def start(self, ready_timeout: float = 30.0) -> dict[str, Any]:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.argv,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )
        return await self._read(ready_timeout)

    async def call(self, timeout: float, **command: Any) -> dict[str, Any]:
        await self.send(**command)
        return await self._read(timeout)

    async def send(self, **command: Any) -> None:
        process = self._require()
        assert process.stdin is not None
        process.stdin.write(json.dumps(command).encode() + b"\n")
        await process.stdin.drain()

    async def read(self, timeout: float) -> dict[str, Any]:
        return await self._read(timeout)

    async def _read(self, timeout: float) -> dict[str, Any]:
        process = self._require()
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except TimeoutError:
            raise WorkerError(f"{self.label}: no answer within {timeout}s") from None
        if not line:
            code = await process.wait()
            raise WorkerError(f"{self.label}: exited with code {code}")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"{self.label}: {reply['error']}")
        return reply

    def _require(self) -> asyncio.subprocess.Process:
        if self._process is None:
            raise WorkerError(f"{self.label}: not started")
        return self._process

    async def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(Exception):
            assert process.stdin is not None
            process.stdin.write(b'{"op": "quit"}\n')
            await process.stdin.drain()
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()


async def serve_commands(handlers: dict[str, Any], ready: dict[str, Any]) -> None:
    """Child side of :class:`Worker`: answer one JSON line per command until quit or EOF."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    _reply(ready)
    while True:
        line = await reader.readline()
        if not line:
            return  # the parent is gone
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            return
        try:
            result = await handlers[op](**command)
        except Exception as error:
            _reply({"error": f"{op}: {type(error).__name__}: {error}"})
        else:
            _reply(result)


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


# -- webos processes ------------------------------------------------------------------------


class ChildProcess:
    """A child that is not a :class:`Worker`, such as ``webos module run NAME`` or ``webos run``.

    Its output goes to ``log``. :meth:`stop` sends SIGTERM (the graceful stop of both commands)
    and kills it if it lingers; it dies with its parent too, as its stdin is closed.
    """

    def __init__(
        self, label: str, argv: list[str], env: dict[str, str], cwd: Path, log: Path
    ) -> None:
        self.label = label
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )

    def check_alive(self) -> None:
        if self.process is not None and self.process.returncode is not None:
            raise RuntimeError(
                f"{self.label} exited with {self.process.returncode}:\n"
                + self.log_path.read_text(errors="replace")[-3000:]
            )

    async def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
        self._log.close()


def webos_command(*args: str, profile: Path | None = None) -> list[str]:
    """argv of the ``webos`` CLI of this interpreter, optionally under cProfile (dumped at exit)."""
    webos = str(Path(sys.executable).parent / "webos")
    if profile is None:
        return [webos, *args]
    return [sys.executable, "-m", "cProfile", "-o", str(profile), webos, *args]


def webos_env(nats_url: str, data_dir: Path, modules_path: Path, **extra: str) -> dict[str, str]:
    """Environment of a webos process on the benchmark's NATS, with only the generated modules."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBOS_")}
    env.update(
        WEBOS_NATS_URL=nats_url,
        WEBOS_DATA_DIR=str(data_dir),
        WEBOS_MODULES_PATH=str(modules_path.resolve()),
        **extra,
    )
    return env


# -- CPU accounting -------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (Linux /proc); NaN when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, summed over cores."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / _TICKS, sum(fields) / _TICKS


class CpuMeter:
    """CPU used by named processes (and the whole machine) between :meth:`start` and :meth:`read`,
    as a fraction of one core; 1.0 means one core fully busy."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start()

    def start(self) -> None:
        self._began = time.perf_counter()
        self._before = {name: process_cpu_s(pid) for name, pid in self.pids.items()}
        self._machine = machine_cpu_s()

    def read(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self._began
        usage = {
            name: round((process_cpu_s(pid) - self._before[name]) / elapsed, 3)
            for name, pid in self.pids.items()
        }
        busy, _ = machine_cpu_s()
        usage["machine_busy_cores"] = round((busy - self._machine[0]) / elapsed, 3)
        return usage
