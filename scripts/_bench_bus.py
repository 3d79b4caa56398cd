"""``bench.py bus``: publisher process -> subscriber process, three ways.

* ``raw``: nats-py ``nc.publish`` -> ``nc.subscribe(cb=...)`` doing ``json.loads`` (the limit);
* ``faststream``: ``broker.publish`` -> a plain NatsBroker subscriber taking a pydantic model,
  per-message logging off (``log_level=DEBUG`` while the logger is at INFO);
* ``webos``: ``Bus.emit`` -> a ``kernel.bus.Bus`` handler marked ``@on`` taking the same model;
* ``webos_identity``: the same, emitted by a signed-in user: the publisher signs an identity into
  every event (as the gateway does), the subscriber verifies it (as a module process does);
* ``webos_typed``: ``webos`` on a subject the publisher declared with ``event(subject, Login)``,
  so every emit is validated against the model (``WEBOS_EVENT_VALIDATION=error``).

Every variant gets its own subscriber process and its own publisher process (run as
``python scripts/_bench_bus.py sub|pub VARIANT URL``), all sending the same ~200-byte JSON
payload that carries ``time.time_ns()`` of its send for the latency runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import (
    BenchContext,
    Figure,
    Worker,
    make_payload,
    median,
    percentile,
    serve_commands,
)
from pydantic import BaseModel

VARIANTS = ("raw", "faststream", "webos", "webos_identity", "webos_typed")
LABELS = {
    "raw": "raw nats-py",
    "faststream": "FastStream",
    "webos": "WebOS bus",
    "webos_identity": "WebOS + id",
    "webos_typed": "WebOS typed",
}


class Login(BaseModel):
    """The benchmark payload as the handlers declare it."""

    sent_ns: int
    seq: int
    user_id: str
    email: str
    action: str
    ip: str
    agent: str
    tags: list[str]
    score: float
    ok: bool


def make_timed_payload(seq: int) -> dict[str, Any]:
    """The shared benchmark record plus its send time, for latency."""
    return {"sent_ns": time.time_ns(), **make_payload(seq)}


def subject_for(variant: str) -> str:
    return f"bench.bus.{variant}"


# -- subscriber process ---------------------------------------------------------------------


class Collector:
    """What every handler calls once per event; identical for the three variants."""

    def __init__(self) -> None:
        self.arm(0, latency=False)

    def arm(self, expected: int, *, latency: bool) -> None:
        self.expected = expected
        self.count = 0
        self.anonymous = 0  # events that should have carried an identity and did not
        self.first_ns = self.last_ns = 0
        self.latencies: list[int] | None = [] if latency else None
        self.done = asyncio.Event()

    def hit(self, sent_ns: int, *, signed_in: bool = True) -> None:
        if not signed_in:
            self.anonymous += 1
        now = time.perf_counter_ns()
        if self.count == 0:
            self.first_ns = now
        self.last_ns = now
        self.count += 1
        if self.latencies is not None:
            self.latencies.append(time.time_ns() - sent_ns)
        if self.count == self.expected:
            self.done.set()


def _add_identity(bus: Any, seed_hex: str | None, *, sign: bool) -> None:
    """The identity propagation a gateway (``sign``) or a module process has, on a shared key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kernel.auth import IdentityPropagator

    if not seed_hex:
        raise SystemExit("the webos_identity variant needs --identity-key")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    bus.propagation.add(IdentityPropagator(key.public_key(), key if sign else None))


def _signed_in() -> bool:
    from kernel.auth import current_principal

    return current_principal.get().is_authenticated


async def _setup_subscriber(
    variant: str, url: str, collector: Collector, identity_key: str | None = None
) -> tuple[Callable[[], int], Callable[[], Awaitable[None]]]:
    """Subscribe the variant's handler; return (dropped-count getter, close)."""
    subject = subject_for(variant)
    dropped = [0]
    if variant == "raw":
        import nats
        from nats.errors import SlowConsumerError

        async def on_error(error: Exception) -> None:
            if isinstance(error, SlowConsumerError):
                dropped[0] += 1

        nc = await nats.connect(url, name="bench-sub-raw", error_cb=on_error)

        async def raw_handler(msg: Any) -> None:
            collector.hit(json.loads(msg.data)["sent_ns"])

        await nc.subscribe(subject, cb=raw_handler)
        await nc.flush()
        return lambda: dropped[0], nc.close

    if variant == "faststream":
        from faststream.nats import NatsBroker
        from nats.errors import SlowConsumerError

        async def on_fs_error(error: Exception) -> None:
            if isinstance(error, SlowConsumerError):
                dropped[0] += 1

        broker = NatsBroker(
            url,
            name="bench-sub-faststream",
            logger=logging.getLogger("bench.faststream"),
            log_level=logging.DEBUG,  # below the logger's INFO: no per-message log records
            error_cb=on_fs_error,
        )

        @broker.subscriber(subject)
        async def fs_handler(body: Login) -> None:
            collector.hit(body.sent_ns)

        await broker.start()
        await broker.config.connection_state.connection.flush()
        return lambda: dropped[0], broker.stop

    if variant in ("webos", "webos_identity", "webos_typed"):
        from kernel.bus import Bus, on

        bus = Bus()
        if variant == "webos_identity":
            _add_identity(bus, identity_key, sign=False)

        @on(subject)
        async def webos_handler(event: Login) -> None:
            collector.hit(event.sent_ns, signed_in=_signed_in())

        bus.add_handler("bench", webos_handler, webos_handler.__webos_events__[0])
        await bus.connect(url, client_name="bench-sub-webos")
        await bus.nats.flush()
        return lambda: bus.dropped, bus.close

    raise ValueError(f"unknown variant {variant!r}")


async def subscriber_main(
    variant: str, url: str, profile: str | None, identity_key: str | None
) -> None:
    # Production-like logging: INFO and up are emitted (kernel.logs does the same).
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    collector = Collector()
    dropped, close = await _setup_subscriber(variant, url, collector, identity_key)
    profiler = _Profiler(profile)

    async def arm(expected: int, latency: bool, profile: bool = False) -> dict[str, Any]:
        collector.arm(expected, latency=latency)
        if profile:
            profiler.start()
        return {"armed": expected}

    async def report(idle_s: float = 2.0, limit_s: float = 120.0) -> dict[str, Any]:
        """Wait until every expected event arrived, or until none arrived for ``idle_s``."""
        started = time.monotonic()
        seen, seen_at = collector.count, started
        while not collector.done.is_set():
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if collector.count != seen:
                seen, seen_at = collector.count, now
            elif now - seen_at > idle_s or now - started > limit_s:
                break
        profiler.stop()
        result: dict[str, Any] = {
            "received": collector.count,
            "expected": collector.expected,
            "complete": collector.done.is_set(),
            "dropped": dropped(),
            "anonymous": collector.anonymous,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        if collector.count > 1:
            span_s = (collector.last_ns - collector.first_ns) / 1e9
            result["events_per_s"] = (collector.count - 1) / span_s if span_s else float("nan")
        if collector.latencies:
            ordered = sorted(collector.latencies)
            result["p50_ms"] = percentile(ordered, 0.50) / 1e6
            result["p99_ms"] = percentile(ordered, 0.99) / 1e6
        return result

    try:
        await serve_commands({"arm": arm, "report": report}, {"ready": variant, "pid": os.getpid()})
    finally:
        await close()


class _Profiler:
    """cProfile of the subscriber process during one armed run (``--profile PATH``)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._profile: Any = None

    def start(self) -> None:
        if self.path and self._profile is None:
            import cProfile

            self._profile = cProfile.Profile()
            self._profile.enable()

    def stop(self) -> None:
        if self._profile is not None:
            self._profile.disable()
            self._profile.dump_stats(self.path)
            self._profile = None


# -- publisher process ----------------------------------------------------------------------


async def _setup_publisher(
    variant: str, url: str, identity_key: str | None = None
) -> tuple[Callable[[int], Awaitable[Any]], Any, Callable[[], Awaitable[None]]]:
    """Return (send one event, nats-py client for flushing, close)."""
    subject = subject_for(variant)
    if variant == "raw":
        import nats

        nc = await nats.connect(url, name="bench-pub-raw")

        async def raw_send(seq: int) -> None:
            await nc.publish(subject, json.dumps(make_timed_payload(seq)).encode())

        return raw_send, nc, nc.close

    if variant == "faststream":
        from faststream.nats import NatsBroker

        broker = NatsBroker(
            url,
            name="bench-pub-faststream",
            logger=logging.getLogger("bench.faststream"),
            log_level=logging.DEBUG,
        )
        await broker.start()

        async def fs_send(seq: int) -> None:
            await broker.publish(make_timed_payload(seq), subject)

        return fs_send, broker.config.connection_state.connection, broker.stop

    if variant in ("webos", "webos_identity", "webos_typed"):
        from kernel.bus import Bus, event

        bus = Bus()
        if variant == "webos_typed":
            bus.declare_events("bench", [event(subject, Login)])
        if variant == "webos_identity":
            from kernel.auth import Principal, current_principal

            _add_identity(bus, identity_key, sign=True)
            # Every event this process emits is emitted for this user (the commands' tasks
            # inherit the context).
            current_principal.set(Principal(id="bench-user", kind="user", roles={"user"}))
        await bus.connect(url, client_name=f"bench-pub-{variant}")

        async def webos_send(seq: int) -> None:
            await bus.emit(subject, make_timed_payload(seq))

        return webos_send, bus.nats, bus.close

    raise ValueError(f"unknown variant {variant!r}")


async def publisher_main(variant: str, url: str, identity_key: str | None) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    send, nc, close = await _setup_publisher(variant, url, identity_key)

    async def burst(count: int, flush_every: int = 1000) -> dict[str, Any]:
        """Send ``count`` events as fast as possible, flushing now and then."""
        started = time.perf_counter()
        for seq in range(count):
            await send(seq)
            if seq % flush_every == flush_every - 1:
                await nc.flush()
        await nc.flush()
        elapsed = time.perf_counter() - started
        return {"sent": count, "elapsed_s": elapsed, "events_per_s": count / elapsed}

    async def paced(rate: float, duration_s: float) -> dict[str, Any]:
        """Send at a fixed rate; each event carries its own send time."""
        count = int(rate * duration_s)
        interval = 1.0 / rate
        started = time.perf_counter()
        for seq in range(count):
            delay = started + seq * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await send(seq)
        await nc.flush()
        elapsed = time.perf_counter() - started
        return {"sent": count, "elapsed_s": elapsed, "events_per_s": count / elapsed}

    try:
        await serve_commands({"burst": burst, "paced": paced}, {"ready": variant})
    finally:
        await close()


# -- orchestration (runs inside bench.py) ---------------------------------------------------


class _Pair:
    def __init__(self, variant: str, url: str, profile_dir: Path | None, key: str) -> None:
        self.variant = variant
        script = str(Path(__file__).resolve())
        identity = ["--identity-key", key] if variant == "webos_identity" else []
        argv = [script, "sub", variant, url, *identity]
        if profile_dir is not None:
            argv += ["--profile", str(profile_dir / f"bus-sub-{variant}.prof")]
        self.sub = Worker(f"{variant} subscriber", argv)
        self.pub = Worker(f"{variant} publisher", [script, "pub", variant, url, *identity])

    async def start(self) -> None:
        await self.sub.start()
        await self.pub.start()

    async def stop(self) -> None:
        await self.pub.stop()
        await self.sub.stop()

    async def run(
        self, op: str, expected: int, *, latency: bool, profile: bool = False, **params: Any
    ) -> dict[str, Any]:
        await self.sub.call(10, op="arm", expected=expected, latency=latency, profile=profile)
        published = await self.pub.call(300, op=op, **params)
        received = await self.sub.call(300, op="report")
        received["publisher_events_per_s"] = published["events_per_s"]
        received["sent"] = published["sent"]
        received["lost"] = published["sent"] - received["received"]
        return received


async def run_bus(ctx: BenchContext, args: argparse.Namespace) -> list[Figure]:
    count = args.bus_events or (20_000 if ctx.quick else 60_000)
    rate = args.bus_rate
    duration = 1.0 if ctx.quick else args.bus_seconds
    repeats = 1 if ctx.quick else args.repeat
    profile_dir: Path | None = args.profile_dir  # made absolute and created by bench.py

    # One throwaway identity key for the run, shared by the signing publisher and its subscriber.
    key = os.urandom(32).hex()
    pairs = {variant: _Pair(variant, ctx.nats_url, profile_dir, key) for variant in VARIANTS}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        v: {"throughput": [], "latency": []} for v in VARIANTS
    }
    slow_before = ctx.server_varz().get("slow_consumers", 0)
    try:
        for pair in pairs.values():
            await pair.start()
        for pair in pairs.values():  # warm up: imports, pydantic, code paths, TCP buffers
            await pair.run("burst", count // 4, latency=False, count=count // 4)
            await pair.run("paced", int(rate / 2), latency=True, rate=rate, duration_s=0.5)
        for repeat in range(repeats):
            for variant, pair in pairs.items():
                result = await pair.run("burst", count, latency=False, count=count)
                runs[variant]["throughput"].append(result)
                _progress(variant, "throughput", repeat, result)
            for variant, pair in pairs.items():
                expected = int(rate * duration)
                result = await pair.run(
                    "paced", expected, latency=True, rate=rate, duration_s=duration
                )
                runs[variant]["latency"].append(result)
                _progress(variant, "latency", repeat, result)
        if args.bus_overrun:
            ctx.details["bus_overrun"] = await _overrun(ctx, pairs, args.bus_overrun)
        if profile_dir is not None:
            for variant, pair in pairs.items():
                await pair.run("burst", count, latency=False, profile=True, count=count)
                print(f"  profile: {profile_dir / f'bus-sub-{variant}.prof'}", file=sys.stderr)
    finally:
        for pair in pairs.values():
            await pair.stop()
    slow_after = ctx.server_varz().get("slow_consumers", 0)

    summary: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        throughput, latency = runs[variant]["throughput"], runs[variant]["latency"]
        every = throughput + latency
        summary[variant] = {
            "events_per_s": median([r.get("events_per_s", 0.0) for r in throughput]),
            "publisher_events_per_s": median([r["publisher_events_per_s"] for r in throughput]),
            "p50_ms": median([r["p50_ms"] for r in latency if "p50_ms" in r]),
            "p99_ms": median([r["p99_ms"] for r in latency if "p99_ms" in r]),
            "dropped": sum(r["dropped"] for r in every),
            "lost": sum(r["lost"] for r in every),
            "anonymous": sum(r.get("anonymous", 0) for r in every),
            "incomplete_runs": sum(not r["complete"] for r in every),
        }
    ctx.details["bus"] = {
        "events_per_throughput_run": count,
        "latency_rate_per_s": rate,
        "latency_seconds": duration,
        "repeats": repeats,
        "aggregate": "median of repeats",
        "server_slow_consumers": slow_after - slow_before,
        "summary": summary,
        "runs": runs,
    }

    webos = summary["webos"]
    figures = []
    for short, base in (("faststream", summary["faststream"]), ("raw_nats", summary["raw"])):
        figures += [
            Figure.compare(
                f"bus_events_per_s_vs_{short}",
                webos["events_per_s"],
                base["events_per_s"],
                "events/s",
                higher_is_better=True,
            ),
            Figure.compare(
                f"bus_p50_latency_ms_vs_{short}",
                webos["p50_ms"],
                base["p50_ms"],
                "ms",
                higher_is_better=False,
            ),
            Figure.compare(
                f"bus_p99_latency_ms_vs_{short}",
                webos["p99_ms"],
                base["p99_ms"],
                "ms",
                higher_is_better=False,
            ),
        ]
    figures.append(
        Figure.compare(
            "bus_publish_events_per_s_vs_faststream",
            webos["publisher_events_per_s"],
            summary["faststream"]["publisher_events_per_s"],
            "events/s",
            higher_is_better=True,
        )
    )
    identity, faststream = summary["webos_identity"], summary["faststream"]
    if identity["anonymous"]:
        raise RuntimeError(f"{identity['anonymous']:.0f} events arrived without their identity")
    figures += [
        Figure.compare(
            "bus_with_identity_events_per_s_vs_faststream",
            identity["events_per_s"],
            faststream["events_per_s"],
            "events/s",
            higher_is_better=True,
        ),
        Figure.compare(
            "bus_with_identity_p50_latency_ms_vs_faststream",
            identity["p50_ms"],
            faststream["p50_ms"],
            "ms",
            higher_is_better=False,
        ),
        Figure.compare(
            "bus_signed_in_publish_events_per_s_vs_faststream",
            identity["publisher_events_per_s"],
            faststream["publisher_events_per_s"],
            "events/s",
            higher_is_better=True,
        ),
    ]
    typed = summary["webos_typed"]
    figures.append(
        Figure.compare(
            "bus_typed_publish_events_per_s_vs_untyped",
            typed["publisher_events_per_s"],
            webos["publisher_events_per_s"],
            "events/s",
            higher_is_better=True,
        )
    )
    _print_delivery(summary, slow_after - slow_before)
    from _bench_durable import run_durable

    return figures + await run_durable(ctx, args)


async def _overrun(ctx: BenchContext, pairs: dict[str, _Pair], count: int) -> dict[str, Any]:
    """One burst far longer than the subscriber can absorb: who loses events, and is it seen?"""
    print(f"  overrun: {count:,} events as fast as each publisher can", file=sys.stderr)
    results: dict[str, Any] = {}
    for variant, pair in pairs.items():
        before = ctx.server_varz().get("slow_consumers", 0)
        result = await pair.run("burst", count, latency=False, count=count)
        result["server_slow_consumers"] = ctx.server_varz().get("slow_consumers", 0) - before
        results[variant] = result
        print(
            f"  overrun {LABELS[variant]:<12} received {result['received']:,}/{result['sent']:,}"
            f"  lost={result['lost']:,}  counted_dropped={result['dropped']:,}"
            f"  server_slow_consumers={result['server_slow_consumers']}"
            f"  subscriber_max_rss={result['max_rss_mb']:.0f}MB",
            file=sys.stderr,
        )
    return results


def _progress(variant: str, kind: str, repeat: int, result: dict[str, Any]) -> None:
    if kind == "throughput":
        shown = (
            f"{result.get('events_per_s', 0):>9,.0f} events/s received "
            f"(publisher {result['publisher_events_per_s']:,.0f}/s)"
        )
    else:
        nan = float("nan")
        shown = f"p50 {result.get('p50_ms', nan):.3f} ms  p99 {result.get('p99_ms', nan):.3f} ms"
    loss = "" if result["complete"] else f"  INCOMPLETE: {result['received']}/{result['sent']}"
    drops = f"  dropped={result['dropped']}" if result["dropped"] else ""
    print(
        f"  [{repeat + 1}] {LABELS[variant]:<12} {kind:<10} {shown}{loss}{drops}", file=sys.stderr
    )


def _print_delivery(summary: dict[str, dict[str, float]], server_slow: int) -> None:
    print("\nbus delivery (all runs): ", end="")
    print(
        "; ".join(
            f"{LABELS[v]} dropped={int(s['dropped'])} lost={int(s['lost'])} "
            f"incomplete_runs={int(s['incomplete_runs'])}"
            for v, s in summary.items()
        ),
        end="",
    )
    print(f"; nats-server slow_consumers (whole run)={server_slow}")


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=("sub", "pub"))
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("url")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--identity-key", default=None, help="Ed25519 seed, hex")
    args = parser.parse_args()
    if args.role == "sub":
        asyncio.run(subscriber_main(args.variant, args.url, args.profile, args.identity_key))
    else:
        asyncio.run(publisher_main(args.variant, args.url, args.identity_key))


if __name__ == "__main__":
    _main()
