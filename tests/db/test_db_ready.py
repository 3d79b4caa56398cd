"""``/ready`` tells the truth about the document store: a database that cannot serve makes the
gateway not ready, and a MongoDB nobody answers at stops start-up with a message naming it."""

from __future__ import annotations

import asyncio
import shutil
import socket

import httpx
import pytest

from kernel.errors import StartupError
from kernel.testing import KernelHarness, RunningKernel


async def _ready_until(app: RunningKernel, status: int, timeout: float = 30.0) -> httpx.Response:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = await app.client.get("/ready")
        if answer.status_code == status or loop.time() > deadline:
            return answer
        await asyncio.sleep(0.1)


async def test_ready_is_503_while_the_embedded_store_cannot_serve(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")  # writing contacts needs contacts.write
    app = await webos.start(["contacts"])
    created = await app.client.post("/api/contacts/", json={"name": "Ada", "email": "a@b.org"})
    assert created.status_code == 201, created.text
    assert (await app.client.get("/ready")).status_code == 200
    store = webos.data_dir / "db"

    shutil.rmtree(store)  # the volume under the data directory went away
    listing = await app.client.get("/api/contacts/")
    down = await _ready_until(app, 503)

    assert listing.status_code == 500  # what users get meanwhile
    assert down.status_code == 503
    assert down.json()["reasons"] == ["database is not answering"]

    store.mkdir()  # back (empty): the store serves again, and /ready says so
    assert (await _ready_until(app, 200)).status_code == 200
    assert (await app.client.get("/api/contacts/")).json() == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nobody listens there once the socket is closed


async def test_an_unreachable_mongodb_stops_start_up_naming_it(webos: KernelHarness) -> None:
    port = _closed_port()
    url = f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"

    with pytest.raises(StartupError) as caught:
        await webos.start(["contacts"], mongo_url=url)

    message = str(caught.value)
    assert f"database (MongoDB at 127.0.0.1:{port}):" in message, message
