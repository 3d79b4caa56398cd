"""``bench.py tasks``: background tasks through ``kernel.tasks`` against raw taskiq-nats.

Both variants use taskiq-nats's pull-based JetStream broker on the same nats-server in the same
run, with the same worker concurrency, in this process:

* ``webos``: a generated module ``bench_tasks`` with ``@task async def noop(sent)``, sent with
  ``await noop.kiq(...)`` from a started kernel whose in-process worker runs it. Every task also
  gets its queued/running/succeeded record in NATS KV and carries principal, trace and
  correlation labels.
* ``raw``: ``PullBasedJetStreamBroker`` with ``@broker.task``, taskiq's own ``Receiver`` and no
  result backend (``pull_consume_batch`` = the concurrency).

Figures: tasks/s end to end (N tasks sent 100 at a time, until the last one ran) and the
kiq-to-start latency p50/p99 (one task at a time; send to the first line of the function).
Three interleaved rounds of both variants: the median rate of each side, and latency
percentiles over the samples of all rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import BenchContext, Figure, percentile

#: Filled by the task functions of both variants: seconds from send to start.
STARTED: list[float] = []
CONCURRENCY = 16

BENCH_TASKS = """
import time

import _bench_tasks
from kernel.tasks import task


@task(retries=0)
async def noop(sent: float) -> None:
    _bench_tasks.STARTED.append(time.perf_counter() - sent)
"""


async def _until(count: int, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while len(STARTED) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {len(STARTED)} of {count} tasks ran")
        await asyncio.sleep(0.001)


async def _measure(send: Any, total: int, samples: int) -> tuple[float, list[float]]:
    STARTED.clear()
    for _ in range(20):  # warm up
        await send(time.perf_counter())
    await _until(20)
    STARTED.clear()
    began = time.perf_counter()
    for start in range(0, total, 100):
        await asyncio.gather(*(send(time.perf_counter()) for _ in range(min(100, total - start))))
    await _until(total)
    rate = total / (time.perf_counter() - began)
    latencies = []
    for index in range(samples):
        STARTED.clear()
        await send(time.perf_counter())
        await _until(1)
        latencies.append(STARTED[0])
        del index
    return rate, sorted(latencies)


async def _webos(ctx: BenchContext, total: int, samples: int) -> tuple[float, list[float]]:
    from kernel.assembly import gateway_kernel
    from kernel.settings import KernelSettings
    from kernel.testing._harness import forget_modules, write_module

    modules = ctx.tmp_dir / "bench-task-modules"
    write_module(modules, "bench_tasks", {"tasks.py": BENCH_TASKS})
    settings = KernelSettings(
        nats_url=ctx.nats_url,
        data_dir=ctx.tmp_dir / "bench-tasks-data",
        modules_path=modules,
        only=["bench_tasks"],
        tasks_worker=True,
        tasks_concurrency=CONCURRENCY,
        heartbeat_interval=5,
    )
    kernel = gateway_kernel(settings)
    await kernel.start()
    try:
        from bench_tasks.tasks import noop  # type: ignore[import-not-found]

        return await _measure(noop.kiq, total, samples)
    finally:
        await kernel.stop()
        forget_modules(modules)


async def _raw(ctx: BenchContext, total: int, samples: int) -> tuple[float, list[float]]:
    from taskiq.receiver import Receiver
    from taskiq_nats import PullBasedJetStreamBroker

    broker = PullBasedJetStreamBroker(
        servers=ctx.nats_url,
        subject="bench.raw.tasks",
        stream_name="BENCH_RAW_TASKS",
        durable="bench_raw",
        pull_consume_batch=CONCURRENCY,
        pull_consume_timeout=1.0,
    )

    @broker.task(task_name="bench.noop")
    async def noop(sent: float) -> None:
        STARTED.append(time.perf_counter() - sent)

    await broker.startup()
    receiver = Receiver(broker, run_startup=False, max_async_tasks=CONCURRENCY)
    finish = asyncio.Event()
    listening = asyncio.create_task(receiver.listen(finish))
    try:
        return await _measure(noop.kiq, total, samples)
    finally:
        finish.set()
        listening.cancel()
        with contextlib.suppress(BaseException):  # cancelled on purpose
            await listening
        await broker.js.delete_stream("BENCH_RAW_TASKS")
        await broker.shutdown()


async def run_tasks(ctx: BenchContext, args: Any) -> list[Figure]:
    logging.getLogger("taskiq").setLevel(logging.WARNING)
    total, samples, rounds = (300, 100, 1) if ctx.quick else (3000, 500, 3)
    raw_rates: list[float] = []
    rates: list[float] = []
    raw_latency: list[float] = []
    latency: list[float] = []
    for _ in range(rounds):  # interleaved, so a noisy moment hits both sides
        raw_rate, raw_samples = await _raw(ctx, total, samples)
        rate, webos_samples = await _webos(ctx, total, samples)
        raw_rates.append(raw_rate)
        rates.append(rate)
        raw_latency += raw_samples
        latency += webos_samples
    raw_rate, rate = statistics.median(raw_rates), statistics.median(rates)
    raw_latency.sort()
    latency.sort()
    ctx.details["tasks"] = {
        "tasks": total,
        "rounds": rounds,
        "aggregate": "median rate of the rounds; latency percentiles over all rounds' samples",
        "latency_samples": samples * rounds,
        "concurrency": CONCURRENCY,
        "webos_rates": [round(value) for value in rates],
        "raw_rates": [round(value) for value in raw_rates],
        "webos_p50_ms": percentile(latency, 0.5) * 1000,
        "raw_p50_ms": percentile(raw_latency, 0.5) * 1000,
    }
    return [
        Figure.compare(
            "tasks_per_s_end_to_end_vs_taskiq_nats",
            rate,
            raw_rate,
            "tasks/s",
            higher_is_better=True,
        ),
        Figure.compare(
            "tasks_kiq_to_start_p50_ms_vs_taskiq_nats",
            percentile(latency, 0.5) * 1000,
            percentile(raw_latency, 0.5) * 1000,
            "ms",
            higher_is_better=False,
        ),
        Figure.compare(
            "tasks_kiq_to_start_p99_ms_vs_taskiq_nats",
            percentile(latency, 0.99) * 1000,
            percentile(raw_latency, 0.99) * 1000,
            "ms",
            higher_is_better=False,
        ),
    ]


def _main() -> None:
    """Run on its own: ``python scripts/_bench_tasks.py NATS_URL [--quick]``."""
    import tempfile

    sys.modules.setdefault("_bench_tasks", sys.modules[__name__])  # the tasks append here

    async def go() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = BenchContext(sys.argv[1], "", Path(tmp), quick="--quick" in sys.argv)
            for figure in await run_tasks(ctx, None):
                print(figure.as_dict())
            print(ctx.details)

    asyncio.run(go())


if __name__ == "__main__":
    _main()
