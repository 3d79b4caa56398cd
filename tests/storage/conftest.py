"""Fixtures for the storage tests: a real moto_server process and AFS instances over it.

moto runs as a separate process on loopback (never the in-process decorator) so the minio SDK
goes through real HTTP, and tracemalloc in the memory tests sees only our process. The main
server enforces auth (``INITIAL_NO_AUTH_ACTION_COUNT``): the first three calls create an IAM user
with an access key; every S3 call after that must be signed with it, so wrong credentials really
fail. A second, open server serves the presigned-URL tests behind a front that checks their
query signatures, which moto never does (see ``moto_s3_presign``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from storagetest_helpers import SECRET, MotoS3

from kernel.storage import AFS, LocalBackend
from kernel.testing import moto_s3_server, presign_checking_front


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: large streamed transfers (still run by default)")


@contextmanager
def _moto_server(log_dir: Path, *, enforce_auth: bool) -> Iterator[MotoS3]:
    with moto_s3_server(log_dir, enforce_auth=enforce_auth) as server:
        yield MotoS3(server.endpoint, server.access_key, server.secret_key)


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """moto_server that verifies SigV4 signatures against a real IAM access key."""
    with _moto_server(tmp_path_factory.mktemp("moto-auth"), enforce_auth=True) as server:
        yield server


@pytest.fixture(scope="session")
def moto_s3_presign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """An open moto_server (moto answers 500 to presigned URLs once auth is enforced) behind a
    front that refuses presigned URLs whose SigV4 signature, method or expiry is wrong."""
    with (
        moto_s3_server(tmp_path_factory.mktemp("moto-open"), enforce_auth=False) as server,
        presign_checking_front(server) as front,
    ):
        yield MotoS3(front.endpoint, front.access_key, front.secret_key)


@pytest.fixture
def bucket() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    """The storage root sits inside ``tmp_path`` so tests can watch its siblings."""
    return tmp_path / "root"


@pytest.fixture
def events() -> list[tuple[str, dict[str, Any]]]:
    return []


@pytest.fixture
async def afs(
    moto_s3: MotoS3, bucket: str, local_root: Path, events: list[tuple[str, dict[str, Any]]]
) -> AsyncIterator[AFS]:
    """AFS with a 'local' and an 's3' mount, recording events, principal 'alice'."""

    async def sink(subject: str, payload: dict[str, Any]) -> None:
        events.append((subject, payload))

    fs = AFS(
        {
            "local": LocalBackend(local_root, mount="local", secret=SECRET),
            "s3": moto_s3.backend(bucket),
        },
        emit=sink,
        principal_provider=lambda: "alice",
    )
    await fs.start()
    yield fs
    await fs.close()


@pytest.fixture(params=["local", "s3"])
def mount(request: pytest.FixtureRequest) -> str:
    """The contract suite runs once per backend kind."""
    return str(request.param)
