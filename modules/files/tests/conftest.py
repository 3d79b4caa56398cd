"""Fixtures for the files module: a real moto_server subprocess and helpers to start the kernel.

moto runs as its own process on loopback (the SDK and presigned URLs go through real HTTP, and
tracemalloc sees only this process). It runs without auth: moto answers 500 to presigned URLs
once its signature checks are on, and credentials are the storage suite's business
(tests/storage). Each test gets a fresh bucket, created by the kernel's S3 mount at start.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kernel.testing import KernelHarness, RunningKernel


@dataclass(frozen=True)
class Moto:
    endpoint: str  # host:port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_binary() -> str:
    beside = Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        pytest.fail("moto_server not found: install moto[server] into the test environment")
    return found


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    port = _free_port()
    log_path = tmp_path_factory.mktemp("files-moto") / "moto.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [_moto_binary(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"moto_server exited with {proc.returncode}; see {log_path}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail("moto_server did not start listening")
                    time.sleep(0.05)
            yield Moto(f"127.0.0.1:{port}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def s3(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> Moto:
    """Configure the kernel's ``s3`` mount (fresh bucket) for kernels started in this test."""
    monkeypatch.setenv("WEBOS_STORAGE_S3_ENDPOINT", moto.endpoint)
    monkeypatch.setenv("WEBOS_STORAGE_S3_ACCESS_KEY", "files-test-access")
    monkeypatch.setenv("WEBOS_STORAGE_S3_SECRET_KEY", "files-test-secret")
    monkeypatch.setenv("WEBOS_STORAGE_S3_BUCKET", f"files-{uuid.uuid4().hex[:16]}")
    return moto


@pytest.fixture(autouse=True)
def _no_stray_storage_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's shell may configure storage; these tests choose their own mounts.
    for name in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "BUCKET"):
        monkeypatch.delenv(f"WEBOS_STORAGE_S3_{name}", raising=False)
    monkeypatch.delenv("WEBOS_STORAGE_LOCAL_ROOT", raising=False)
    monkeypatch.delenv("WEBOS_STORAGE_MOUNTS", raising=False)


@pytest.fixture(autouse=True)
def _signed_in(webos: KernelHarness) -> None:
    # Every route but the presigned ones needs files.read / files.write; test_files_guards.py
    # checks that, the other tests act as an admin.
    webos.sign_in_as("admin")


@pytest.fixture
async def app(webos: KernelHarness) -> RunningKernel:
    """A kernel running only the files module (local mount only unless ``s3`` is requested)."""
    return await webos.start(["files"])
