"""``bench.py bus`` (durable part): acknowledged emits, and durable handlers in parallel.

* acknowledged emits: ``Bus.emit`` on a subject ``WEBOS_EVENTS`` keeps (so it returns once
  JetStream stored the event) against nats-py's ``js.publish`` (which also waits for the
  acknowledgement), one at a time and with 16 in flight, each in its own publisher process;
* durable handler throughput: a backlog of events drained by a durable handler that awaits 5 ms
  of I/O per event, with ``concurrency=8`` against the default 1.

Run as ``python scripts/_bench_durable.py pub|drain ...`` by the orchestration below.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import BenchContext, Figure, Worker, make_payload, median, serve_commands

SCRIPT = str(Path(__file__).resolve())
KEPT = "bench.kept"
WORK = "bench.work"
IN_FLIGHT = 16
WORK_S = 0.005  # the I/O a durable handler awaits per event
CONCURRENCY = (1, 8)


# -- publisher process ----------------------------------------------------------------------


async def publisher_main(variant: str, url: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    subject = f"{KEPT}.{variant}"
    body = json.dumps(make_payload(1)).encode()
    if variant == "raw":
        import nats

        nc = await nats.connect(url, name="bench-acked-raw")
        js = nc.jetstream()
        counter = iter(range(10**12))

        async def send() -> None:
            await js.publish(subject, body, headers={"Nats-Msg-Id": f"raw-{next(counter)}"})

        close = nc.close
    else:
        from kernel.bus import Bus

        bus = Bus()
        await bus.connect(url, client_name="bench-acked-webos")
        payload = make_payload(1)

        async def send() -> None:
            await bus.emit(subject, payload)

        close = bus.close

    async def burst(count: int, in_flight: int) -> dict[str, Any]:
        started = time.perf_counter()
        if in_flight == 1:
            for _ in range(count):
                await send()
        else:
            remaining = iter(range(count))

            async def lane() -> None:
                for _ in remaining:
                    await send()

            await asyncio.gather(*(lane() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
        return {"sent": count, "elapsed_s": elapsed, "events_per_s": count / elapsed}

    try:
        await serve_commands({"burst": burst}, {"ready": variant, "pid": os.getpid()})
    finally:
        await close()


# -- drain process ----------------------------------------------------------------------------


async def drain_main(url: str, concurrency: int) -> None:
    """A durable handler of ``bench.work.<concurrency>`` that awaits ``WORK_S`` per event."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    from kernel.bus import Bus, on

    bus = Bus()
    handled = 0
    first = last = 0.0
    expected = 0
    drained = asyncio.Event()

    @on(f"{WORK}.c{concurrency}", durable=True, concurrency=concurrency)
    async def work(event: dict) -> None:
        nonlocal handled, first, last
        await asyncio.sleep(WORK_S)
        handled += 1
        last = time.perf_counter()
        if handled == 1:
            first = last
        if handled >= expected:
            drained.set()

    work.__qualname__ = f"work_c{concurrency}"  # one consumer per concurrency
    bus.add_handler("bench", work, work.__webos_events__[0])

    async def connect() -> dict[str, Any]:
        await bus.connect(url, client_name=f"bench-drain-{concurrency}")
        return {"connected": True}

    async def wait(count: int, limit_s: float = 300.0) -> dict[str, Any]:
        nonlocal expected
        expected = count
        if handled < count:
            drained.clear()
            await asyncio.wait_for(drained.wait(), limit_s)
        span = last - first
        return {"handled": handled, "events_per_s": (handled - 1) / span if span else 0.0}

    try:
        await serve_commands({"connect": connect, "wait": wait}, {"ready": concurrency})
    finally:
        await bus.close()


# -- orchestration (runs inside bench.py) ---------------------------------------------------


async def _kept_stream(url: str) -> None:
    """``WEBOS_EVENTS`` keeping the bench subjects, as a gateway with durable handlers makes it."""
    import nats

    from kernel.bus._streams import ensure_streams

    nc = await nats.connect(url)
    try:
        await ensure_streams(nc.jetstream(), [f"{KEPT}.>", f"{WORK}.>"], max_age=600.0)
    finally:
        await nc.close()


async def _acked(ctx: BenchContext, count: int, repeats: int) -> dict[str, dict[str, float]]:
    workers = {v: Worker(f"acked {v}", [SCRIPT, "pub", v, ctx.nats_url]) for v in ("raw", "webos")}
    runs: dict[str, list[float]] = {f"{v}_{n}": [] for v in workers for n in (1, IN_FLIGHT)}
    try:
        for worker in workers.values():
            await worker.start()
        for worker in workers.values():  # warm up
            await worker.call(120, op="burst", count=count // 4, in_flight=IN_FLIGHT)
        for repeat in range(repeats):
            for in_flight in (1, IN_FLIGHT):
                for variant, worker in workers.items():
                    result = await worker.call(300, op="burst", count=count, in_flight=in_flight)
                    runs[f"{variant}_{in_flight}"].append(result["events_per_s"])
                    print(
                        f"  [{repeat + 1}] acked {variant:<5} {in_flight:>2} in flight "
                        f"{result['events_per_s']:>9,.0f} events/s",
                        file=sys.stderr,
                    )
    finally:
        for worker in workers.values():
            await worker.stop()
    return {key: {"events_per_s": median(values)} for key, values in runs.items()}


async def _drained(ctx: BenchContext, count: int, repeats: int) -> dict[int, float]:
    import nats

    rates: dict[int, list[float]] = {c: [] for c in CONCURRENCY}
    body = json.dumps({"n": 1}).encode()
    for repeat in range(repeats):
        for concurrency in CONCURRENCY:
            argv = [SCRIPT, "drain", ctx.nats_url, str(concurrency)]
            drain = Worker(f"drain c={concurrency}", argv)
            await drain.start()
            try:
                await drain.call(60, op="connect")  # creates the consumer: it keeps what follows
                nc = await nats.connect(ctx.nats_url)
                js = nc.jetstream()
                subject = f"{WORK}.c{concurrency}"
                for _ in range(count):
                    await js.publish(subject, body)
                await nc.close()
                result = await drain.call(600, op="wait", count=count)
            finally:
                await drain.stop()
            rates[concurrency].append(result["events_per_s"])
            print(
                f"  [{repeat + 1}] durable concurrency={concurrency} "
                f"{result['events_per_s']:>7,.0f} events/s",
                file=sys.stderr,
            )
    return {c: median(values) for c, values in rates.items()}


async def run_durable(ctx: BenchContext, args: argparse.Namespace) -> list[Figure]:
    count = 2_000 if ctx.quick else 10_000
    drain_count = 200 if ctx.quick else 1_000
    repeats = 1 if ctx.quick else args.repeat
    await _kept_stream(ctx.nats_url)
    acked = await _acked(ctx, count, repeats)
    drained = await _drained(ctx, drain_count, repeats)
    ctx.details["durable"] = {
        "acked_events_per_run": count,
        "drained_events_per_run": drain_count,
        "handler_io_s": WORK_S,
        "acked": acked,
        "drained_events_per_s": drained,
    }
    return [
        Figure.compare(
            "bus_acked_emits_per_s_vs_raw_js_publish",
            acked["webos_1"]["events_per_s"],
            acked["raw_1"]["events_per_s"],
            "events/s",
            higher_is_better=True,
        ),
        Figure.compare(
            f"bus_acked_emits_per_s_{IN_FLIGHT}_in_flight_vs_raw_js_publish",
            acked[f"webos_{IN_FLIGHT}"]["events_per_s"],
            acked[f"raw_{IN_FLIGHT}"]["events_per_s"],
            "events/s",
            higher_is_better=True,
        ),
        Figure.compare(
            "durable_events_per_s_concurrency_8_vs_1",
            drained[8],
            drained[1],
            "events/s",
            higher_is_better=True,
        ),
    ]


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    pub = sub.add_parser("pub")
    pub.add_argument("variant", choices=("raw", "webos"))
    pub.add_argument("url")
    drain = sub.add_parser("drain")
    drain.add_argument("url")
    drain.add_argument("concurrency", type=int)
    args = parser.parse_args()
    if args.role == "pub":
        asyncio.run(publisher_main(args.variant, args.url))
    else:
        asyncio.run(drain_main(args.url, args.concurrency))


if __name__ == "__main__":
    _main()
