"""A plain connection to the test's nats-server, closed after the test unless it closed it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kernel.transport import EmbeddedNats, connect_once


@pytest.fixture
async def connection(nats_server: EmbeddedNats) -> AsyncIterator[Any]:
    client = await connect_once(nats_server.url, "test-transport")
    yield client
    if not client.is_closed:
        await client.close()
