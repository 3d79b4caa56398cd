"""Profile one benchmark loop: ``python scripts/bench_profile.py KIND [--out F.pstats]``.

KIND is one of:

* ``bus-publish``: ``Bus.emit`` in this process, N events (``--signed-in``: for a signed-in user,
  as the gateway emits them), profiled here;
* ``bus-deliver``: a ``Bus`` handler in this process, profiled here, fed by the bench's
  publisher process (``_bench_bus.py pub webos``: events with the bus's headers);
* ``http-inprocess`` / ``http-forwarded``: the http bench's servers (``_bench_http.py``), the
  gateway (and for ``forwarded`` the module process), for one load run of ``GET /ping``: their
  CPU per request, and a profile of each. With ``--py-spy``, each server is sampled during the
  load only (start-up left out: under cProfile it is most of a short run).

Prints the top entries by cumulative and by own time and writes the ``.pstats`` files (py-spy's
stacks for the http kinds, as ``.txt``). ``--py-spy`` records a flame graph (svg) of the bus
kinds instead.
Named ``bench_profile`` and not ``profile``: a ``profile.py`` here would shadow the standard
library module that cProfile imports.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
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


async def profile_http(
    ctx: BenchContext, case: str, seconds: float, out: Path, spy: str | None
) -> list[Path]:
    """One load run of ``GET /ping``. Prints each server process's CPU per request. With py-spy
    (``spy``), samples each server process during that run only and writes its stacks
    (``.txt``); without it, runs each under cProfile for its whole life, start-up included."""
    from _bench_common import CpuMeter
    from _bench_http import ROUTES, SCRIPT, _load, _Servers, write_http_module

    work = ctx.tmp_dir / "http"
    write_http_module(work / "modules")
    servers = _Servers(ctx, work, None if spy else out.parent)
    load = Worker("http load generator", [SCRIPT, "load"])
    written: list[Path] = []
    try:
        await servers.start()
        await load.start()
        method, path = ROUTES["ping"]
        url = servers.urls[case] + path
        await load.call(120, op="wait_ready", url=url)
        await _load(load, url, method, min(2.0, seconds), 32, {})  # warm up
        pids = servers.pids(case)
        samplers = []
        for name, pid in pids.items() if spy else ():
            written.append(out.parent / f"http-{name}-{case}.txt")
            samplers.append(_sample(spy, pid, seconds, written[-1]))
        meter = CpuMeter(pids)
        result = await _load(load, url, method, seconds, 32, {})
        usage = meter.read()
        for sampler in samplers:
            sampler.wait()
    finally:
        await load.stop()
        await servers.stop()  # SIGTERM: the profiled processes write their profiles now
    rate = result["requests_per_s"]
    cpu = ", ".join(f"{name} {usage[name] / rate * 1e6:,.0f}" for name in pids)
    print(f"{case}: {rate:,.0f} req/s; CPU per request (µs): {cpu}")
    if spy:
        return written
    names = ["gateway"] if case == "in_process" else ["gateway", "module"]
    return [out.parent / f"http-{name}-{case}.prof" for name in names]


def _sample(spy: str, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on a running process for ``seconds``, as collapsed stacks: only samples holding
    the GIL (waiting for the network is left out), each read with the process paused (reading
    it running gives stacks that never were)."""
    command = [spy, "record", "--gil", "-r", "250", "-f", "raw", "-o", str(out)]
    command += ["-d", str(max(1, round(seconds))), "-p", str(pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def show_stacks(path: Path, top: int) -> None:
    """py-spy's collapsed stacks as two tables: functions by share of samples inside them
    (inclusive) and at the top of the stack (own)."""
    inside: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        # "function (path/file.py:line)" -> "function (file.py)": one entry per function
        frames = [re.sub(r" \((?:.*/)?([^/:]+):\d+\)$", r" (\1)", f) for f in stack.split(";")]
        inside.update(dict.fromkeys(frames, samples))
        own[frames[-1]] += samples
    root = max(inside.values(), default=0)
    for title, counts in (("inside", inside), ("own", own)):
        print(f"\n== {path.name}: top {top} by samples {title} ({total:,} samples)")
        # Frames in every sample (the process's main, its event loop) say nothing.
        shown = [(frame, samples) for frame, samples in counts.most_common() if samples < root]
        for frame, samples in shown[:top]:
            print(f"{samples / max(total, 1):6.1%}  {frame}")


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
            spy = args.spy if args.py_spy else None
            return await profile_http(ctx, case, args.seconds, args.out, spy)
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
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="bus kinds: a flame graph; http kinds: sample the servers during the load only",
    )
    args = parser.parse_args()
    args.out = (args.out or Path(f"profile-{args.kind}.pstats")).resolve()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    spy = args.spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if args.py_spy and not os.path.exists(spy):
        parser.error("--py-spy needs py-spy (pip install py-spy)")
    if args.py_spy and args.kind.startswith("bus"):
        svg = args.out.with_suffix(".svg")
        argv = [a for a in sys.argv[1:] if a != "--py-spy"]
        command = [spy, "record", "-o", str(svg), "--", sys.executable, __file__, *argv]
        subprocess.run(command, check=True)
        print(f"flame graph: {svg}")
        return
    for path in asyncio.run(run(args)):
        if path.suffix == ".txt":
            show_stacks(path, args.top)
        else:
            show(path, args.top)
        print(f"profile written: {path}")


if __name__ == "__main__":
    main()
