"""Bodies larger than one NATS message, and streamed answers, through the gateway to a module
process: chunks over NATS with flow control (kernel/forwarding/_wire.py)."""

import asyncio
import hashlib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kernel.testing import KernelHarness, pattern, write_module

MiB = 1024 * 1024
NATS_MAX_PAYLOAD = 1 * MiB  # the test nats-server runs with the default max_payload

STREAMER_ROUTER = """
import asyncio
import hashlib
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, ServerSentEvent, Stream
from kernel import ThisModule
from kernel.auth import PUBLIC
from kernel.testing import pattern

@post("/digest", opt=PUBLIC, request_max_body_size=None, status_code=200)
async def digest(request: Request) -> dict:
    sha, size = hashlib.sha256(), 0
    async for piece in request.stream():
        sha.update(piece)
        size += len(piece)
    return {"sha256": sha.hexdigest(), "size": size}

@get("/download/{size:int}", opt=PUBLIC)
async def download(size: FromPath[int]) -> Stream:
    return Stream(pattern(size, chunk=64 * 1024), media_type="application/octet-stream")

@get("/blob/{size:int}", opt=PUBLIC)
async def blob(size: FromPath[int]) -> Response:
    return Response(b"w" * size, media_type="application/octet-stream")

@get("/forever", opt=PUBLIC)
async def forever() -> Stream:
    async def pieces():
        while True:
            yield b"z" * 65536
            await asyncio.sleep(0.01)
    return Stream(pieces(), media_type="application/octet-stream")

@get("/events", opt=PUBLIC)
async def events(module: ThisModule) -> ServerSentEvent:
    gate = module.data_dir / "release"
    gone = module.data_dir / "disconnected"
    async def ticks():
        try:
            yield "first"
            while not gate.exists():
                await asyncio.sleep(0.05)
            yield "last"
        finally:
            module.data_dir.mkdir(parents=True, exist_ok=True)
            gone.write_text("the generator was closed")
    return ServerSentEvent(ticks())
"""


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "streamer", {"router.py": STREAMER_ROUTER})
    return root


@pytest.fixture
def module_dir(webos: KernelHarness) -> Path:
    """The streamer module's data folder (shared by the gateway and the module process)."""
    folder = webos.data_dir / "modules" / "streamer"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _standalone(webos: KernelHarness, modules_path: Path, **settings):
    gateway = await webos.start(modules_path=modules_path, exclude=["streamer"], **settings)
    process = await webos.run_module("streamer", modules_path=modules_path)
    return gateway, process


async def _digest(chunks) -> str:
    sha = hashlib.sha256()
    async for chunk in chunks:
        sha.update(chunk)
    return sha.hexdigest()


async def test_a_request_body_larger_than_a_nats_message_arrives_intact(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway, _ = await _standalone(webos, modules_path)
    size = 5 * NATS_MAX_PAYLOAD + 12345
    sent = hashlib.sha256()
    body = b"".join([piece async for piece in pattern(size, digest=sent)])

    known_length = await gateway.client.post("/api/streamer/digest", content=body)
    chunked = await gateway.client.post("/api/streamer/digest", content=pattern(size))

    assert known_length.status_code == 200, known_length.text
    assert known_length.json() == {"sha256": sent.hexdigest(), "size": size}
    assert chunked.status_code == 200, chunked.text
    assert chunked.json() == {"sha256": sent.hexdigest(), "size": size}


@pytest.fixture
def memory() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


@pytest.mark.usefixtures("memory")
async def test_large_uploads_and_downloads_stream_through_in_bounded_memory(
    webos: KernelHarness, modules_path: Path
) -> None:
    """48 MiB each way. Holding the body whole anywhere would take at least that much in the
    gateway (this process: tracemalloc sees it, client included) or the module process (its
    peak resident size)."""
    gateway, process = await _standalone(webos, modules_path)
    size = 48 * MiB
    module_peak = _peak_rss(process.pid)
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]

    sent = hashlib.sha256()
    uploaded = await gateway.client.post(
        "/api/streamer/digest", content=pattern(size, digest=sent), timeout=60
    )
    received = hashlib.sha256()
    async with gateway.client.stream("GET", f"/api/streamer/download/{size}") as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            received.update(chunk)

    gateway_peak = tracemalloc.get_traced_memory()[1] - baseline
    module_grew = _peak_rss(process.pid) - module_peak
    assert uploaded.json() == {"sha256": sent.hexdigest(), "size": size}
    assert received.hexdigest() == await _digest(pattern(size, chunk=64 * 1024))
    assert gateway_peak < 16 * MiB, f"gateway peak {gateway_peak / MiB:.1f} MiB above baseline"
    assert module_grew < 16 * MiB, f"module process peaked {module_grew / MiB:.1f} MiB higher"


async def test_an_answer_larger_than_a_nats_message_arrives_whole(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway, _ = await _standalone(webos, modules_path)
    response = await gateway.client.get(f"/api/streamer/blob/{3 * NATS_MAX_PAYLOAD}")
    assert response.status_code == 200
    assert response.content == b"w" * (3 * NATS_MAX_PAYLOAD)
    assert response.headers["content-length"] == str(3 * NATS_MAX_PAYLOAD)


async def test_server_sent_events_arrive_as_they_happen_and_outlive_the_request_timeout(
    webos: KernelHarness, modules_path: Path, module_dir: Path
) -> None:
    gateway, _ = await _standalone(webos, modules_path, request_timeout=1.0)

    async with gateway.client.stream("GET", "/api/streamer/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        first = await asyncio.wait_for(_next_data(lines), 10)
        # The stream is still open: "last" only comes once the test releases it, after a
        # silence longer than the gateway's request timeout (pings keep the stream alive).
        await asyncio.sleep(2.5)
        (module_dir / "release").write_text("go")
        last = await asyncio.wait_for(_next_data(lines), 10)
        rest = [line async for line in lines if line.startswith("data:")]

    assert (first, last, rest) == ("data: first", "data: last", [])


async def test_a_client_that_leaves_stops_the_modules_stream(
    webos: KernelHarness, modules_path: Path, module_dir: Path
) -> None:
    gateway, _ = await _standalone(webos, modules_path)

    async with gateway.client.stream("GET", "/api/streamer/events") as response:
        assert await asyncio.wait_for(_next_data(response.aiter_lines()), 10) == "data: first"
    # Leaving the block closed the connection mid-stream.

    marker = module_dir / "disconnected"
    for _ in range(150):
        if marker.exists():
            break
        await asyncio.sleep(0.1)
    assert marker.exists(), "the module's stream was not stopped when the client left"


async def test_a_module_killed_mid_stream_ends_the_response(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway, process = await _standalone(webos, modules_path)

    async def read_until_cut() -> int:
        received = 0
        async with gateway.client.stream("GET", "/api/streamer/forever") as response:
            assert response.status_code == 200
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received >= MiB and process.process.poll() is None:
                    process.kill()
        return received

    with pytest.raises(httpx.RemoteProtocolError):
        await asyncio.wait_for(read_until_cut(), 30)  # a failure bound, not a target
    assert (await gateway.client.get("/health")).status_code == 200
    after = await gateway.client.get("/api/streamer/blob/10")
    assert after.status_code == 503
    assert "no live instance of module 'streamer'" in after.json()["detail"]


async def test_the_files_module_runs_standalone(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    gateway = await webos.start(["greeter"])  # files (with the rest) runs elsewhere
    await webos.run_module("files")
    size = 3 * NATS_MAX_PAYLOAD + 7
    sent = hashlib.sha256()
    body = b"".join([piece async for piece in pattern(size, digest=sent)])

    put = await gateway.client.put("/api/files/local/standalone/blob.bin", content=body)
    got = await gateway.client.get("/api/files/local/standalone/blob.bin")

    assert put.status_code == 201, put.text
    assert put.json()["size"] == size
    assert got.status_code == 200, got.text
    assert hashlib.sha256(got.content).hexdigest() == sent.hexdigest()
    assert got.content == body


async def _next_data(lines) -> str:
    async for line in lines:
        if line.startswith("data:"):
            return line
    raise AssertionError("the stream ended without another event")


def _peak_rss(pid: int) -> int:
    return _status_kib(pid, "VmHWM") * 1024


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")
