"""Profile one benchmark loop: ``python scripts/bench_profile.py KIND [--out F.pstats]``.

KIND is one of:

* ``bus-publish``: ``Bus.emit`` in this process, N events (``--signed-in``: for a signed-in user,
  as the gateway emits them), profiled here;
* ``bus-deliver``: a ``Bus`` handler in this process, profiled here, fed by the bench's
  publisher process (``_bench_bus.py pub webos``: events with the bus's headers);
* ``http-inprocess`` / ``http-forwarded``: the http bench's servers (``_bench_http.py``), the
  gateway (and for ``forwarded`` the module process) under cProfile for one load run.

Prints the top entries by cumulative and by own time and writes the ``.pstats`` files.
``--py-spy`` also records a flame graph (svg) of the bus kinds when py-spy is installed.
Named ``bench_profile`` and not ``profile``: a ``profile.py`` here would shadow the standard
library module that cProfile imports.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_bus import Login, make_timed_payload, subject_for
from _bench_common import BenchContext, Worker

KINDS = ("bus-publish", "bus-deliver", "http-inprocess", "http-forwarded")


async def profile_publish(url: str, count: int, signed_in: bool, out: Path) -> list[Path]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kernel.auth import IdentityPropagator, Principal, current_principal
    from kernel.bus import Bus

    bus = Bus()
    if signed_in:
        key = Ed25519PrivateKey.generate()
        bus.propagation.add(IdentityPropagator(key.public_key(), key))
        current_principal.set(Principal(id="bench-user", kind="user", roles={"user"}))
    await bus.connect(url, client_name="profile-pub")
    subject = subject_for("webos")
    for seq in range(1000):  # warm up
        await bus.emit(subject, make_timed_payload(seq))
    profiler = cProfile.Profile()
    profiler.enable()
    for seq in range(count):
        await bus.emit(subject, make_timed_payload(seq))
        if seq % 1000 == 999:
            await bus.nats.flush()
    await bus.nats.flush()
    profiler.disable()
    await bus.close()
    profiler.dump_stats(out)
    return [out]


async def profile_deliver(url: str, count: int, out: Path) -> list[Path]:
    from kernel.bus import Bus, on

    bus = Bus()
    seen = [0]
    done = asyncio.Event()

    @on(subject_for("webos"))
    async def handler(event: Login) -> None:
        seen[0] += 1
        if seen[0] == expected:
            done.set()

    bus.add_handler("bench", handler, handler.__webos_events__[0])  # type: ignore[attr-defined]
    await bus.connect(url, client_name="profile-sub")
    publisher = Worker(
        "publisher", [str(Path(__file__).parent / "_bench_bus.py"), "pub", "webos", url]
    )
    await publisher.start()
    expected = 1000
    await publisher.call(60, op="burst", count=expected)  # warm up
    await asyncio.wait_for(done.wait(), 60)
    seen[0], expected = 0, count
    done.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    await publisher.call(300, op="burst", count=count)
    await asyncio.wait_for(done.wait(), 300)
    profiler.disable()
    await publisher.stop()
    await bus.close()
    profiler.dump_stats(out)
    return [out]


async def profile_http(ctx: BenchContext, case: str, seconds: float, out: Path) -> list[Path]:
    from _bench_http import ROUTES, SCRIPT, _load, _Servers, write_http_module

    work = ctx.tmp_dir / "http"
    write_http_module(work / "modules")
    servers = _Servers(ctx, work, out.parent)  # the webos processes run under cProfile
    load = Worker("http load generator", [SCRIPT, "load"])
    try:
        await servers.start()
        await load.start()
        method, path = ROUTES["ping"]
        url = servers.urls[case] + path
        await load.call(120, op="wait_ready", url=url)
        await _load(load, url, method, seconds, 32, {})
    finally:
        await load.stop()
        await servers.stop()  # SIGTERM: the profiled processes write their profiles now
    names = (
        ["http-gateway-in_process.prof"]
        if case == "in_process"
        else [
            "http-gateway-standalone.prof",
            "http-module-standalone.prof",
        ]
    )
    return [out.parent / name for name in names]


def show(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    for order in ("cumulative", "tottime"):
        print(f"\n== {path.name}: top {top} by {order}")
        stats.sort_stats(order).print_stats(top)


async def run(args: argparse.Namespace) -> list[Path]:
    from bench import free_port

    from kernel.transport import EmbeddedNats

    with tempfile.TemporaryDirectory(prefix="webos-profile-") as tmp:
        server = EmbeddedNats(free_port(), Path(tmp) / "nats", monitor_port=free_port())
        server.start()
        try:
            if args.kind == "bus-publish":
                return await profile_publish(server.url, args.count, args.signed_in, args.out)
            if args.kind == "bus-deliver":
                return await profile_deliver(server.url, args.count, args.out)
            monitor = f"http://127.0.0.1:{server.monitor_port}"
            ctx = BenchContext(server.url, monitor, Path(tmp), nats_pid=server.pid)
            case = "in_process" if args.kind == "http-inprocess" else "standalone"
            return await profile_http(ctx, case, args.seconds, args.out)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--count", type=int, default=50_000, help="events (bus kinds)")
    parser.add_argument("--seconds", type=float, default=5.0, help="load time (http kinds)")
    parser.add_argument("--signed-in", action="store_true", help="bus-publish for a user")
    parser.add_argument("--out", type=Path, default=None, help="the .pstats file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--py-spy", action="store_true", help="also a flame graph (bus kinds)")
    args = parser.parse_args()
    args.out = (args.out or Path(f"profile-{args.kind}.pstats")).resolve()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if args.py_spy and args.kind.startswith("bus") and os.path.exists(spy):
        svg = args.out.with_suffix(".svg")
        argv = [a for a in sys.argv[1:] if a != "--py-spy"]
        command = [spy, "record", "-o", str(svg), "--", sys.executable, __file__, *argv]
        subprocess.run(command, check=True)
        print(f"flame graph: {svg}")
        return
    for path in asyncio.run(run(args)):
        show(path, args.top)
        print(f"profile written: {path}")


if __name__ == "__main__":
    main()
