"""``bench.py tracing``: the same workloads with tracing on (``WEBOS_TRACE_FILE``) and off.

Recording spans is meant to be left on; these figures say what it costs. Each figure is
``on / off`` of one workload, both measured in this run, in alternating rounds (the order flips
every round), median of the rounds:

* ``bus_events_per_s_tracing_on_vs_off``: a child process with two ``kernel.bus.Bus`` connections
  (publisher, subscriber) emits N ~200-byte events and waits until the handler saw them all;
  producer and consumer spans are both in that process.
* ``tasks_per_s_tracing_on_vs_off``: a child process running a kernel with an in-process worker
  (``_bench_tasks``'s generated module) sends N tasks 100 at a time until the last one ran.
* ``http_requests_per_s_tracing_on_vs_off``: two ``webos run`` gateways serving the
  ``_bench_http`` module in process, one with the trace file; the load comes from
  ``_bench_http``'s separate load generator process (an in-process client would be the
  bottleneck and hide the server's cost).

Bus and HTTP also run a third mode, ``sampled``: the trace file with
``WEBOS_TRACE_SAMPLE_RATIO=0.1`` (one new trace in ten recorded), what a team would leave on in
production; its figures are ``bus_events_per_s_tracing_sampled_10pct_vs_off`` and
``http_requests_per_s_tracing_sampled_10pct_vs_off``.

A fresh child per round for bus and tasks (the SDK is set up once per process). With tracing
on, every span goes through the batch exporter into a file in the run's temporary folder; the
details give CPU seconds per operation of the measured processes (export thread included) and
the number of spans written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import (
    ROOT,
    BenchContext,
    ChildProcess,
    CpuMeter,
    Figure,
    Worker,
    make_payload,
    median,
    process_cpu_s,
    webos_command,
    webos_env,
)

SCRIPT = str(Path(__file__).resolve())
MODES = ("off", "on")
#: Modes of the workloads that also measure sampling (tasks: on and off only, to keep it short).
SAMPLED_MODES = ("off", "on", "sampled")
SAMPLE_RATIO = "0.1"


# -- children: one workload, one process --------------------------------------------------------


async def bus_child(url: str, count: int) -> dict[str, Any]:
    from kernel.bus import Bus, on
    from kernel.telemetry import setup_telemetry

    setup_telemetry("module")  # WEBOS_TRACE_FILE (or not) from the environment
    seen, target = [0], [0]
    done = asyncio.Event()

    @on("bench.tracing.login")
    async def handler(payload: dict[str, Any]) -> None:
        seen[0] += 1
        if seen[0] >= target[0]:
            done.set()

    subscriber, publisher = Bus(), Bus()
    subscriber.add_handler("bench", handler, handler.__webos_events__[0])  # type: ignore[attr-defined]
    await subscriber.connect(url, client_name="bench-tracing-sub")
    await publisher.connect(url, client_name="bench-tracing-pub")
    payload = make_payload(1)

    async def burst(events: int) -> tuple[float, float]:
        seen[0], target[0] = 0, events
        done.clear()
        began, cpu = time.perf_counter(), time.process_time()
        for seq in range(events):
            await publisher.emit("bench.tracing.login", payload)
            if seq % 500 == 499:
                await publisher.nats.flush()
        await publisher.nats.flush()
        await asyncio.wait_for(done.wait(), 120)
        return time.perf_counter() - began, time.process_time() - cpu

    try:
        await burst(min(500, count))  # warm up
        elapsed, cpu = await burst(count)
    finally:
        await publisher.close()
        await subscriber.close()
    return {"per_s": count / elapsed, "cpu_us_per_op": cpu / count * 1e6}


async def tasks_child(url: str, count: int, work: str) -> dict[str, Any]:
    import _bench_tasks
    from _bench_tasks import BENCH_TASKS, CONCURRENCY, _until

    from kernel.assembly import freeze_startup_heap, gateway_kernel
    from kernel.settings import KernelSettings
    from kernel.testing._harness import write_module

    modules = Path(work) / "modules"
    write_module(modules, "bench_tasks", {"tasks.py": BENCH_TASKS})
    settings = KernelSettings(
        nats_url=url,
        data_dir=Path(work) / "data",
        modules_path=modules,
        only=["bench_tasks"],
        tasks_worker=True,
        tasks_concurrency=CONCURRENCY,
        heartbeat_interval=5,
    )
    kernel = gateway_kernel(settings)
    await kernel.start()
    freeze_startup_heap()  # what the gateway's process does once started
    try:
        from bench_tasks.tasks import noop  # type: ignore[import-not-found]

        async def burst(tasks: int) -> tuple[float, float]:
            _bench_tasks.STARTED.clear()
            began, cpu = time.perf_counter(), time.process_time()
            for start in range(0, tasks, 100):
                batch = min(100, tasks - start)
                await asyncio.gather(*(noop.kiq(time.perf_counter()) for _ in range(batch)))
            await _until(tasks)
            return time.perf_counter() - began, time.process_time() - cpu

        await burst(min(100, count))  # warm up
        elapsed, cpu = await burst(count)
    finally:
        await kernel.stop()
    return {"per_s": count / elapsed, "cpu_us_per_op": cpu / count * 1e6}


async def child_main(kind: str, url: str, count: int, work: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if kind == "bus":
        result = await bus_child(url, count)
    else:
        result = await tasks_child(url, count, work)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


# -- orchestration (runs inside bench.py) -------------------------------------------------------


def _tracing_env(mode: str, trace_file: Path) -> dict[str, str]:
    if mode == "off":
        return {}
    env = {"WEBOS_TRACE_FILE": str(trace_file)}
    if mode == "sampled":
        env["WEBOS_TRACE_SAMPLE_RATIO"] = SAMPLE_RATIO
    return env


def _env(mode: str, trace_file: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBOS_")}
    return {**env, **_tracing_env(mode, trace_file)}


def _spans_in(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


async def _child_round(
    ctx: BenchContext, kind: str, mode: str, count: int, index: int
) -> dict[str, Any]:
    work = ctx.tmp_dir / "tracing" / f"{kind}-{mode}-{index}"
    work.mkdir(parents=True, exist_ok=True)
    trace_file = work / "spans.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        SCRIPT,
        "child",
        kind,
        ctx.nats_url,
        str(count),
        str(work),
        cwd=ROOT,
        env=_env(mode, trace_file),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 600)
    if process.returncode != 0:
        raise RuntimeError(f"tracing {kind} ({mode}) exited with {process.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["spans"] = _spans_in(trace_file)
    return result


def _order(index: int, modes: tuple[str, ...]) -> tuple[str, ...]:
    # Each mode goes first in turn, and the order flips every other round.
    turn = index % len(modes)
    order = modes[turn:] + modes[:turn]
    return order if (index // len(modes)) % 2 == 0 else order[::-1]


async def _children(
    ctx: BenchContext, kind: str, count: int, repeats: int, modes: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for index in range(repeats):
        for mode in _order(index, modes):
            result = await _child_round(ctx, kind, mode, count, index)
            runs[mode].append(result)
            _progress(kind, mode, index, result)
    return runs


async def _http(
    ctx: BenchContext, seconds: float, connections: int, repeats: int, client: str
) -> dict[str, list[dict[str, Any]]]:
    from _bench_http import ROUTES, _free_port, _Keys, _load, write_http_module
    from _bench_http import SCRIPT as HTTP_SCRIPT

    work = ctx.tmp_dir / "tracing" / "http"
    modules = work / "modules"
    write_http_module(modules)
    keys = _Keys(work / "keys")
    modes = SAMPLED_MODES
    ports = {mode: _free_port() for mode in modes}
    gateways = {}
    for mode in modes:
        data = work / f"data-{mode}"
        data.mkdir(parents=True, exist_ok=True)
        extra = _tracing_env(mode, work / f"spans-{mode}.jsonl")
        env = webos_env(
            ctx.nats_url,
            data,
            modules,
            WEBOS_PORT=str(ports[mode]),
            **keys.env(signer=True),
            **extra,
        )
        gateways[mode] = ChildProcess(
            f"webos run (tracing {mode})", webos_command("run"), env, data, work / f"{mode}.log"
        )
    load = Worker("http load generator", [HTTP_SCRIPT, "load", "--client", client])
    method, path = ROUTES["ping"]
    urls = {mode: f"http://127.0.0.1:{ports[mode]}{path}" for mode in modes}
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    try:
        for gateway in gateways.values():
            await gateway.start()
        await load.start()
        for mode in modes:
            try:
                await load.call(120, op="wait_ready", url=urls[mode])
            except Exception:
                gateways[mode].check_alive()
                raise
            await _load(load, urls[mode], method, min(1.0, seconds), connections, {})  # warm up
        for index in range(repeats):
            for mode in _order(index, modes):
                process = gateways[mode].process
                assert process is not None
                meter = CpuMeter({"gateway": process.pid})
                before = process_cpu_s(process.pid)
                result = await _load(load, urls[mode], method, seconds, connections, {})
                used = process_cpu_s(process.pid) - before
                result["cpu_cores"] = meter.read()
                result["per_s"] = result["requests_per_s"]
                result["cpu_us_per_op"] = used / max(result["ok"], 1) * 1e6
                runs[mode].append(result)
                _progress("http", mode, index, result)
    finally:
        await load.stop()
        for gateway in gateways.values():
            await gateway.stop()
    for mode in modes[1:]:
        runs[mode][-1]["spans"] = _spans_in(work / f"spans-{mode}.jsonl")
    return runs


async def run_tracing(ctx: BenchContext, args: argparse.Namespace) -> list[Figure]:
    repeats = 1 if ctx.quick else max(args.repeat, 3)
    bus_events = 2000 if ctx.quick else 20000
    tasks = 300 if ctx.quick else 3000
    seconds = 1.0 if ctx.quick else args.http_seconds
    measured = {
        "bus": await _children(ctx, "bus", bus_events, repeats, SAMPLED_MODES),
        "tasks": await _children(ctx, "tasks", tasks, repeats, MODES),
        "http": await _http(ctx, seconds, args.http_connections, repeats, args.http_client),
    }
    names = {
        "bus": ("bus_events_per_s_tracing", "events/s"),
        "http": ("http_requests_per_s_tracing", "req/s"),
        "tasks": ("tasks_per_s_tracing", "tasks/s"),
    }
    suffixes = {"on": "on_vs_off", "sampled": "sampled_10pct_vs_off"}
    figures = []
    details: dict[str, Any] = {}
    for kind, runs in measured.items():
        prefix, unit = names[kind]
        per_s = {mode: median([r["per_s"] for r in rounds]) for mode, rounds in runs.items()}
        cpu = {mode: median([r["cpu_us_per_op"] for r in rounds]) for mode, rounds in runs.items()}
        for mode, suffix in suffixes.items():
            if mode in runs:
                figures.append(
                    Figure.compare(
                        f"{prefix}_{suffix}", per_s[mode], per_s["off"], unit, higher_is_better=True
                    )
                )
        details[kind] = {
            "per_s": per_s,
            "cpu_us_per_op": cpu,
            "cpu_ratio_off_vs_on": round(cpu["off"] / cpu["on"], 4) if cpu["on"] else None,
            "spans_written": {
                mode: sum(r.get("spans", 0) for r in runs[mode]) for mode in runs if mode != "off"
            },
            "rounds": repeats,
        }
    ctx.details["tracing"] = details
    return figures


def _progress(kind: str, mode: str, index: int, result: dict[str, Any]) -> None:
    print(
        f"  [{index + 1}] {kind:<5} tracing {mode:<3} {result['per_s']:>9,.0f}/s"
        f"  {result['cpu_us_per_op']:>7.1f} us CPU per op",
        file=sys.stderr,
    )


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    child = sub.add_parser("child")
    child.add_argument("kind", choices=("bus", "tasks"))
    child.add_argument("url")
    child.add_argument("count", type=int)
    child.add_argument("work")
    args = parser.parse_args()
    asyncio.run(child_main(args.kind, args.url, args.count, args.work))


if __name__ == "__main__":
    _main()
