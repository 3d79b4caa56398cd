"""The first contact with NATS (``connect_once``): bounded, one message that says why, and with
``wait`` it lasts until a server answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kernel.transport import EmbeddedNats, NatsUnreachable, connect_once, load_or_create_credentials
from tests.cli.conftest import free_port


async def test_a_wrong_password_is_named_not_retried_forever(nats_server: EmbeddedNats) -> None:
    wrong = nats_server.address.replace("nats://", "nats://webos:guess@")

    with pytest.raises(NatsUnreachable) as raised:
        await connect_once(wrong, "test", timeout=0.5)

    assert "authorization violation: wrong user or password in WEBOS_NATS_URL" in str(raised.value)
    assert "guess" not in str(raised.value)  # credentials never reach a message


async def test_wait_connects_once_the_server_comes(tmp_path: Path) -> None:
    port = free_port()
    url = load_or_create_credentials(tmp_path).url("127.0.0.1", port)
    connecting = asyncio.create_task(connect_once(url, "test", timeout=0.2, wait=True))
    await asyncio.sleep(0.5)  # several attempts, past the bound without wait
    assert not connecting.done(), "wait gave up"

    server = EmbeddedNats(port, tmp_path)
    server.start()
    try:
        client = await asyncio.wait_for(connecting, 30)  # a failure bound
        assert client.is_connected
        await client.close()
    finally:
        server.stop()
