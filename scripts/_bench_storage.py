"""``bench.py storage``: AFS throughput against the same work done directly.

Runs :func:`kernel.storage._bench.run_storage_bench`: S3 through AFS against the minio SDK
(against a real ``moto_server`` process this benchmark starts on loopback, with SigV4 enforced
through an IAM user exactly like ``tests/storage/conftest.py``), and the local backend against
plain file I/O. Its figure dicts become :class:`Figure` objects named
``storage_<what>_mb_per_s_vs_<baseline>``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import BenchContext, Figure

from kernel.testing import moto_s3_server

BASELINES = {"s3": "minio", "local": "file_io"}


def figure_name(raw: str) -> str:
    """``s3_write`` -> ``storage_s3_write_mb_per_s_vs_minio``."""
    backend = raw.split("_", 1)[0]
    return f"storage_{raw}_mb_per_s_vs_{BASELINES.get(backend, 'direct')}"


async def run_storage(ctx: BenchContext, args: argparse.Namespace) -> list[Figure]:
    from kernel.storage._bench import run_storage_bench

    size_mb = max(1, args.storage_mb // 4) if ctx.quick else args.storage_mb
    rounds = 1 if ctx.quick else args.storage_rounds
    log_dir = ctx.tmp_dir / "storage"
    log_dir.mkdir(parents=True, exist_ok=True)
    with moto_s3_server(log_dir, enforce_auth=True) as server:
        endpoint, access_key, secret_key = server.endpoint, server.access_key, server.secret_key
        started = time.perf_counter()
        raw = await run_storage_bench(endpoint, access_key, secret_key, size_mb, rounds=rounds)
        elapsed = time.perf_counter() - started
    ctx.details["storage"] = {
        "size_mb": size_mb,
        "rounds": rounds,
        "aggregate": "best of rounds (kernel.storage._bench)",
        "s3_server": "moto_server (loopback, SigV4 enforced)",
        "elapsed_s": round(elapsed, 1),
        "raw": raw,
    }
    figures = []
    for item in raw:
        figure = Figure.compare(
            figure_name(item["name"]),
            float(item["value"]),
            float(item["baseline"]),
            item.get("unit", "MB/s"),
            higher_is_better=True,
        )
        figures.append(figure)
        print(
            f"  {figure.name:<46} {figure.value:>9,.1f} vs {figure.baseline:>9,.1f} MB/s"
            f"  ratio {figure.ratio:.3f}",
            file=sys.stderr,
        )
    return figures
