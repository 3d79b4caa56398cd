"""A message larger than the NATS server accepts is refused before it is sent, never fatal: the
server would close the sender's connection. Events, service calls, forwarded answers and dead
letters, from the gateway and from a module process (real, ``webos module run``)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from kernel.bus import EVENTS_STREAM, list_dead_letters, replay_dead_letter
from kernel.forwarding._wire import HEADROOM
from kernel.registry import RemoteServiceError
from kernel.testing import KernelHarness, RunningKernel, write_module
from kernel.transport import PayloadTooLarge, header_size
from tests.bus._desk import letters

ROUTER = """
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response

from kernel import bus
from kernel.auth import PUBLIC

@post("/emit", opt=PUBLIC, status_code=200)
async def emit(request: Request) -> dict:
    text = (await request.body()).decode()
    return {"id": await bus.emit("echo.said", {"text": text})}

@get("/headed/{size:int}", opt=PUBLIC)
async def headed(size: FromPath[int]) -> Response:
    padding = {"x-padding": "p" * 20000}
    return Response(b"h" * size, headers=padding, media_type="application/octet-stream")

@get("/overheaded/{size:int}", opt=PUBLIC)
async def overheaded(size: FromPath[int]) -> Response:
    return Response(b"small", headers={"x-padding": "p" * size}, media_type="text/plain")

@get("/echo-header", opt=PUBLIC)
async def echo_header(request: Request) -> dict:
    return {"length": len(request.headers.get("x-padding", ""))}
"""

SERVICES = """
from kernel import service

@service("blob")
class Blob:
    async def make(self, size: int) -> str:
        return "x" * size

    async def length(self, text: str) -> int:
        return len(text)
"""

EVENTS = """
import os
from pathlib import Path

from pydantic import BaseModel

from kernel import on

class Order(BaseModel):
    order_id: int

@on("echo.order", durable=True)
async def book(order: Order) -> None:
    Path(os.environ["ECHO_MARKS"], str(order.order_id)).touch()
"""


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(
        root,
        "echo",
        {"router.py": ROUTER, "services.py": SERVICES, "events.py": EVENTS},
        manifest='name = "echo"\nemits = ["echo.said"]\n',
    )
    return root


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


async def _until_exists(path: Path) -> None:
    for _ in range(300):  # a bound on failure, not a timing
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


async def _deployment(
    webos: KernelHarness, modules_path: Path, marks: Path, where: str
) -> RunningKernel:
    if where == "gateway":
        return await webos.start(["echo"], modules_path=modules_path)
    gateway = await webos.start(modules_path=modules_path, exclude=["echo"])
    await webos.run_module("echo", modules_path=modules_path, ECHO_MARKS=str(marks))
    return gateway


async def _problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"])


@pytest.mark.parametrize("where", ["gateway", "module"])
async def test_an_event_too_large_with_its_headers_is_413_and_the_process_stays_ready(
    webos: KernelHarness, modules_path: Path, marks: Path, where: str
) -> None:
    gateway = await _deployment(webos, modules_path, marks, where)
    said = await gateway.subscribe("echo.said")
    limit = gateway.nats.max_payload
    # The JSON body alone fits one message (nats-py would send it); with the event's headers
    # it does not, and the server would close the connection of whoever sent it.
    text = "x" * (limit - len(b'{"text":""}') - 8)

    refused = await gateway.client.post("/api/echo/emit", content=text)

    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "the NATS server accepts at most" in refused.json()["detail"]
    assert (await gateway.client.get("/ready")).status_code == 200
    later = await gateway.client.post("/api/echo/emit", content="small")
    assert later.status_code == 200, later.text
    assert (await said.next()).json() == {"text": "small"}


async def test_an_event_exactly_at_the_limit_is_sent_and_one_byte_more_is_refused(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(["echo"], modules_path=modules_path)
    bus = gateway.kernel.bus
    said = await gateway.subscribe("echo.said")
    limit = gateway.nats.max_payload
    with pytest.raises(PayloadTooLarge) as caught:
        await bus.emit("echo.said", {"text": "x" * limit})
    size = int(re.search(r"is ([\d,]+) bytes", str(caught.value))[1].replace(",", ""))
    overhead = size - limit  # everything but the text: the JSON around it and the headers

    with pytest.raises(PayloadTooLarge):
        await bus.emit("echo.said", {"text": "y" * (limit - overhead + 1)})
    await bus.emit("echo.said", {"text": "z" * (limit - overhead)})

    assert (await said.next(timeout=10)).json()["text"] == "z" * (limit - overhead)
    assert bus.connected


async def test_a_service_result_too_large_is_an_error_the_caller_reads(
    webos: KernelHarness, modules_path: Path, marks: Path
) -> None:
    gateway = await _deployment(webos, modules_path, marks, "module")
    blob = gateway.kernel.registry.get("blob")
    limit = gateway.nats.max_payload

    with pytest.raises(RemoteServiceError) as caught:
        await blob.make(limit)
    with pytest.raises(PayloadTooLarge):
        await blob.length("y" * limit)

    assert caught.value.remote_type == "PayloadTooLarge"
    assert "the answer of service call blob.make" in caught.value.message
    # Both processes kept their connections.
    assert await blob.make(3) == "xxx"
    assert await blob.length("abc") == 3


async def test_an_answer_whose_headers_do_not_fit_with_its_body_comes_in_pieces(
    webos: KernelHarness, modules_path: Path, marks: Path
) -> None:
    gateway = await _deployment(webos, modules_path, marks, "module")
    size = gateway.nats.max_payload - HEADROOM  # the largest body answered in one message

    response = await gateway.client.get(f"/api/echo/headed/{size}")

    assert response.status_code == 200, response.text
    assert response.content == b"h" * size
    assert response.headers["x-padding"] == "p" * 20000


async def test_forwarded_headers_too_large_for_one_message_are_413_and_the_gateway_stays_ready(
    webos: KernelHarness, modules_path: Path, marks: Path
) -> None:
    gateway = await _deployment(webos, modules_path, marks, "module")
    limit = gateway.nats.max_payload

    # An answer whose headers alone exceed a message: the module refuses to send it.
    answer = await gateway.client.get(f"/api/echo/overheaded/{limit}")
    assert "more than one NATS message holds" in await _problem(answer, 413)
    # A request whose headers alone exceed a message: the gateway refuses to forward it.
    asked = await gateway.client.get("/api/echo/echo-header", headers={"x-padding": "q" * limit})
    assert "the NATS server accepts at most" in await _problem(asked, 413)

    assert (await gateway.client.get("/ready")).status_code == 200
    fine = await gateway.client.get("/api/echo/echo-header", headers={"x-padding": "q" * 100})
    assert fine.json() == {"length": 100}
    assert (await gateway.client.get("/api/echo/overheaded/100")).status_code == 200


async def test_a_near_limit_invalid_event_is_dead_lettered_and_the_module_stays_connected(
    webos: KernelHarness, modules_path: Path, marks: Path
) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["echo"])
    module = await webos.run_module("echo", modules_path=modules_path, ECHO_MARKS=str(marks))
    js = gateway.nats.jetstream()
    headers = {"webos-event-id": "big-1", "Nats-Msg-Id": "big-1"}
    room = gateway.nats.max_payload - header_size(
        {**headers, "Nats-Expected-Stream": EVENTS_STREAM}
    )
    head = b'{"order_id": "not a number", "pad": "'
    body = head + b"p" * (room - len(head) - len(b'"}') - 16) + b'"}'
    # The event fits one message; the letter, with the error and the handler's name, would not.
    stored = await js.publish("echo.order", body, headers=headers, stream=EVENTS_STREAM)

    [letter] = await letters(js, 1)

    assert letter.trusted, letter.doubt
    assert letter.payload_left_out
    assert (letter.original_seq, letter.data) == (stored.seq, body)  # read from the original
    assert "order_id" in letter.error
    await js.publish("echo.order", b'{"order_id": 7}', stream=EVENTS_STREAM)
    await _until_exists(marks / "7")  # the module kept its connection and handles what follows
    await module.wait_visible(webos.nats_url, started=True)  # and still answers as a node
    assert "its payload is read from the original" in module.output()
    # A replay adds headers the event has no room for: refused, and the letter kept.
    with pytest.raises(PayloadTooLarge):
        await replay_dead_letter(js, letter.id)
    assert [kept.id for kept in await list_dead_letters(js)] == [letter.id]
