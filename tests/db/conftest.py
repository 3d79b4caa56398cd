"""Backends for the document-store contract suite.

Every contract test runs against the embedded store in memory and on disk, and against a real
MongoDB when ``WEBOS_TEST_MONGO_URL`` is set; otherwise that variant is reported as skipped, with
the reason, so a run without MongoDB says what it did not prove.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so dbtest_models imports the same everywhere

from dbtest_models import MODELS

from kernel.db import DocumentClient, create_client, init_models

MONGO_URL = os.environ.get("WEBOS_TEST_MONGO_URL") or None
BACKENDS = [
    "memory",
    "disk",
    pytest.param(
        "mongodb",
        marks=pytest.mark.skipif(
            MONGO_URL is None, reason="set WEBOS_TEST_MONGO_URL to run against a real MongoDB"
        ),
    ),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture
async def client(backend: str, tmp_path: Path) -> AsyncIterator[DocumentClient]:
    if backend == "mongodb":
        client = create_client(MONGO_URL, None)
    else:
        client = create_client(None, tmp_path / "db" if backend == "disk" else None)
    yield client
    await client.close()


@pytest.fixture
async def db_name(client: DocumentClient, backend: str) -> AsyncIterator[str]:
    name = f"webos_test_{uuid.uuid4().hex[:12]}"
    yield name
    if backend == "mongodb":
        await client.drop_database(name)


@pytest.fixture
async def models(client: DocumentClient, db_name: str) -> None:
    await init_models(client, db_name, MODELS)
