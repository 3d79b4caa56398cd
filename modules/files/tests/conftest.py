"""Fixtures for the files module: a real moto_server subprocess and helpers to start the kernel.

moto runs as its own process on loopback (the SDK and presigned URLs go through real HTTP, and
tracemalloc sees only this process). It runs without auth: moto answers 500 to presigned URLs
once its signature checks are on, and credentials are the storage suite's business
(tests/storage). Presign tests reach it through a front that checks presigned URLs' signatures
(``s3_checked``). Each test gets a fresh bucket, created by the kernel's S3 mount at start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kernel.testing import (
    KernelHarness,
    RunningKernel,
    S3Server,
    moto_s3_server,
    presign_checking_front,
)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_s3_server(tmp_path_factory.mktemp("files-moto")) as server:
        yield server


@pytest.fixture(scope="session")
def moto_checked(moto: S3Server) -> Iterator[S3Server]:
    """The same moto behind a front that checks presigned URLs' signatures (moto does not)."""
    with presign_checking_front(
        S3Server(moto.endpoint, "files-test-access", "files-test-secret")
    ) as front:
        yield front


def _use_s3(server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    monkeypatch.setenv("WEBOS_STORAGE_S3_ENDPOINT", server.endpoint)
    monkeypatch.setenv("WEBOS_STORAGE_S3_ACCESS_KEY", "files-test-access")
    monkeypatch.setenv("WEBOS_STORAGE_S3_SECRET_KEY", "files-test-secret")
    monkeypatch.setenv("WEBOS_STORAGE_S3_BUCKET", f"files-{uuid.uuid4().hex[:16]}")
    return server


@pytest.fixture
def s3(moto: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """Configure the kernel's ``s3`` mount (fresh bucket) for kernels started in this test."""
    return _use_s3(moto, monkeypatch)


@pytest.fixture
def s3_checked(moto_checked: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """Like ``s3``, through the front that refuses badly signed presigned URLs."""
    return _use_s3(moto_checked, monkeypatch)


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
