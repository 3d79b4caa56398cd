"""``bench.py storage``: AFS throughput against the same work done directly.

Runs :func:`kernel.storage._bench.run_storage_bench`: S3 through AFS against the minio SDK
(against a real ``moto_server`` process this benchmark starts on loopback, with SigV4 enforced
through an IAM user exactly like ``tests/storage/conftest.py``), and the local backend against
plain file I/O. Its figure dicts become :class:`Figure` objects named
``storage_<what>_mb_per_s_vs_<baseline>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _bench_common import BenchContext, Figure

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
BASELINES = {"s3": "minio", "local": "file_io"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _moto_binary() -> str:
    beside = Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        raise RuntimeError("moto_server not found: install moto[server] (the dev extra)")
    return found


@contextlib.contextmanager
def moto_server(log_dir: Path) -> Iterator[tuple[str, str, str]]:
    """A moto_server on loopback enforcing auth; yields (endpoint, access key, secret key)."""
    import boto3

    port = _free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / "moto.log").open("wb")
    env = dict(os.environ)
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"  # the three IAM calls below
    proc = subprocess.Popen(
        [_moto_binary(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {proc.returncode}; see {log.name}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start listening") from None
                time.sleep(0.05)
        iam = boto3.client(
            "iam",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
            region_name="us-east-1",
        )
        iam.create_user(UserName="webos")
        iam.put_user_policy(UserName="webos", PolicyName="all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName="webos")["AccessKey"]
        yield f"127.0.0.1:{port}", key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def figure_name(raw: str) -> str:
    """``s3_write`` -> ``storage_s3_write_mb_per_s_vs_minio``."""
    backend = raw.split("_", 1)[0]
    return f"storage_{raw}_mb_per_s_vs_{BASELINES.get(backend, 'direct')}"


async def run_storage(ctx: BenchContext, args: argparse.Namespace) -> list[Figure]:
    from kernel.storage._bench import run_storage_bench

    size_mb = max(1, args.storage_mb // 4) if ctx.quick else args.storage_mb
    rounds = 1 if ctx.quick else args.storage_rounds
    with moto_server(ctx.tmp_dir / "storage") as (endpoint, access_key, secret_key):
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
