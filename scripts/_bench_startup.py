"""``bench.py startup``: how fast processes come up, and how much memory they hold.

* ``webos run`` (the repo's modules, on the benchmark's NATS) until ``/ready`` answers 200,
  against a bare Litestar app under uvicorn until its first 200;
* ``webos module run audit`` until it is visible in ``webos ps``, against a raw nats-py process
  until its first message arrives;
* ``webos --help`` (the repo's modules add their commands), against a bare click command's
  ``--help``;
* the test ``webos new module`` writes (in-memory doubles), against the same test on the
  real-server fixture (``_bench_unit.py``).

Peak RSS (``VmHWM``) and CPU seconds (user + system) of each process are read when it is up,
and its idle RSS (``VmRSS``) ``IDLE_AFTER`` seconds later. Median of ``--repeat`` runs.

The kernel's and the modules' files are compiled to bytecode first, as ``pip install`` and any
first run leave them: bare Litestar's installed files are, and under ``PYTHONDONTWRITEBYTECODE``
every ``webos`` start would otherwise compile about 250 files again (some 0.3 s of CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import (
    BenchContext,
    ChildProcess,
    Figure,
    process_cpu_s,
    webos_command,
    webos_env,
)
from _bench_unit import module_test_seconds

from kernel.nodes import snapshot
from kernel.transport import connect_once

REPO_MODULES = Path(__file__).resolve().parent.parent / "modules"
KERNEL = Path(__file__).resolve().parent.parent / "kernel"
#: Seconds a process sits up before its idle RSS is read (start-up garbage settled).
IDLE_AFTER = 1.0
HELP_RUNS = 5

BARE_CLICK = """
import click

@click.group()
def main() -> None:
    \"\"\"A bare click command.\"\"\"

@main.command()
def run() -> None:
    \"\"\"Run.\"\"\"

main()
"""

BARE_APP = """
import sys, uvicorn
from litestar import Litestar, get

@get("/ready", sync_to_thread=False)
def ready() -> dict:
    return {"status": "ready"}

uvicorn.run(Litestar([ready]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

RAW_NATS = """
import asyncio, sys, nats

async def main():
    client = await nats.connect(sys.argv[1])
    await client.publish("bench.startup.raw", b"up")
    await client.flush()
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (now) of ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


async def until_http_ok(url: str, child: ChildProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check_alive()
        if await asyncio.to_thread(_answers_200, url):
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{child.label} not ready within {timeout}s")


Run = tuple[float, float, float, float]


async def timed(child: ChildProcess, until: object) -> Run:
    """Seconds to up, peak RSS when up, idle RSS a moment later, CPU seconds when up."""
    started = time.perf_counter()
    await child.start()
    await until  # type: ignore[misc]
    elapsed = time.perf_counter() - started
    assert child.process is not None
    peak = rss_mb(child.process.pid)
    cpu = process_cpu_s(child.process.pid)
    await asyncio.sleep(IDLE_AFTER)
    idle = rss_mb(child.process.pid, "VmRSS")
    await child.stop()
    return elapsed, peak, idle, cpu


async def help_seconds(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Median wall time of ``argv`` (a ``--help``), run ``HELP_RUNS`` times."""
    times = []
    for _ in range(HELP_RUNS):
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=cwd, stdout=asyncio.subprocess.DEVNULL
        )
        if await process.wait() != 0:
            raise RuntimeError(f"{argv} failed")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def gateway_once(ctx: BenchContext, work: Path, index: int) -> Run:
    port = free_port()
    env = webos_env(ctx.nats_url, work / f"gw{index}", REPO_MODULES, WEBOS_PORT=str(port))
    env["WEBOS_TASKS_WORKER"] = "false"
    child = ChildProcess("webos run", webos_command("run"), env, work, work / f"gw{index}.log")
    ready = until_http_ok(f"http://127.0.0.1:{port}/ready", child)
    return await timed(child, ready)


async def bare_once(work: Path, index: int) -> Run:
    port = free_port()
    script = work / "bare_app.py"
    script.write_text(BARE_APP)
    env = dict(os.environ)
    argv = [sys.executable, str(script), str(port)]
    child = ChildProcess("bare Litestar", argv, env, work, work / f"bare{index}.log")
    return await timed(child, until_http_ok(f"http://127.0.0.1:{port}/ready", child))


async def module_once(ctx: BenchContext, work: Path, index: int) -> Run:
    env = webos_env(ctx.nats_url, work / f"mod{index}", REPO_MODULES)
    argv = webos_command("module", "run", "audit")
    child = ChildProcess("webos module run", argv, env, work, work / f"mod{index}.log")

    async def visible() -> None:
        while True:
            child.check_alive()
            assert child.process is not None
            nodes = await snapshot(ctx.nats_url, wait=0.05)
            if any(node.pid == child.process.pid for node in nodes):
                return

    return await timed(child, visible())


async def raw_once(ctx: BenchContext, work: Path, index: int) -> Run:
    client = await connect_once(ctx.nats_url, "bench-startup")
    arrived = asyncio.Event()

    async def seen(_: object) -> None:
        arrived.set()

    await client.subscribe("bench.startup.raw", cb=seen)
    await client.flush()
    script = work / "raw_nats.py"
    script.write_text(RAW_NATS)
    argv = [sys.executable, str(script), ctx.nats_url]
    child = ChildProcess("raw nats-py", argv, dict(os.environ), work, work / f"raw{index}.log")
    try:
        return await timed(child, asyncio.wait_for(arrived.wait(), 60))
    finally:
        await client.close()


async def run_startup(ctx: BenchContext, args: argparse.Namespace) -> list[Figure]:
    work = ctx.tmp_dir / "startup"
    work.mkdir(parents=True, exist_ok=True)
    rounds = 1 if ctx.quick else max(args.repeat, 1)
    results: dict[str, list[Run]] = {key: [] for key in ("gw", "bare", "mod", "raw")}
    for sources in (KERNEL, REPO_MODULES):
        compileall.compile_dir(sources, quiet=1)
    unit_tests: list[float] = []
    real_tests: list[float] = []
    for index in range(rounds):
        results["bare"].append(await bare_once(work, index))
        results["gw"].append(await gateway_once(ctx, work, index))
        results["raw"].append(await raw_once(ctx, work, index))
        results["mod"].append(await module_once(ctx, work, index))
        unit_tests.append(module_test_seconds(work, index, real_server=False))
        real_tests.append(module_test_seconds(work, index, real_server=True))
        print(
            f"  [{index + 1}] module unit test {unit_tests[-1]:6.3f} s   "
            f"on a real nats-server {real_tests[-1]:6.3f} s"
        )
        for key, runs in results.items():
            seconds, peak, idle, cpu = runs[-1]
            print(
                f"  [{index + 1}] {key:<5} up in {seconds:6.3f} s   peak RSS {peak:6.1f} MB"
                f"   idle RSS {idle:6.1f} MB   CPU {cpu:6.2f} s"
            )
    (work / "bare_click.py").write_text(BARE_CLICK)
    help_env = webos_env(ctx.nats_url, work / "help", REPO_MODULES)
    cli_help = await help_seconds(webos_command("--help"), help_env, work)
    click_help = await help_seconds(
        [sys.executable, str(work / "bare_click.py"), "--help"], dict(os.environ), work
    )
    print(f"  webos --help {cli_help:6.3f} s   bare click --help {click_help:6.3f} s")

    def median(key: str, position: int) -> float:
        return statistics.median(run[position] for run in results[key])

    ctx.details["startup"] = {key: runs for key, runs in results.items()}
    lower = {"higher_is_better": False}
    return [
        Figure.compare(
            "startup_gateway_ready_s_vs_bare_litestar",
            median("gw", 0),
            median("bare", 0),
            "s",
            **lower,
        ),
        Figure.compare(
            "startup_gateway_peak_rss_mb_vs_bare_litestar",
            median("gw", 1),
            median("bare", 1),
            "MB",
            **lower,
        ),
        Figure.compare(
            "startup_module_visible_s_vs_raw_nats_process",
            median("mod", 0),
            median("raw", 0),
            "s",
            **lower,
        ),
        Figure.compare(
            "startup_module_peak_rss_mb_vs_raw_nats_process",
            median("mod", 1),
            median("raw", 1),
            "MB",
            **lower,
        ),
        Figure.compare(
            "startup_gateway_idle_rss_mb_vs_bare_litestar",
            median("gw", 2),
            median("bare", 2),
            "MB",
            **lower,
        ),
        Figure.compare(
            "startup_module_idle_rss_mb_vs_raw_nats_process",
            median("mod", 2),
            median("raw", 2),
            "MB",
            **lower,
        ),
        Figure.compare(
            "startup_gateway_cpu_s_vs_bare_litestar",
            median("gw", 3),
            median("bare", 3),
            "s",
            **lower,
        ),
        Figure.compare(
            "startup_module_cpu_s_vs_raw_nats_process",
            median("mod", 3),
            median("raw", 3),
            "s",
            **lower,
        ),
        Figure.compare("cli_help_s_vs_bare_click", cli_help, click_help, "s", **lower),
        Figure.compare(
            "module_unit_test_s_vs_real_server",
            statistics.median(unit_tests),
            statistics.median(real_tests),
            "s",
            **lower,
        ),
    ]
