"""Bus events from HTTP changes, and large transfers that stream in bounded memory."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator

import pytest

from kernel.testing import KernelHarness, RunningKernel
from kernel.testing import S3Server as Moto

from .helpers import MiB, pattern


async def test_uploads_and_deletes_emit_storage_events(webos: KernelHarness) -> None:
    app = await webos.start(["files"])
    events = await app.subscribe("storage.>")

    put = await app.client.put(
        "/api/files/local/ev/a.txt", content=b"hello", headers={"content-type": "text/plain"}
    )
    created = await events.next()
    posted = await app.client.post("/api/files/local/ev/", files={"file": ("b.bin", b"12345")})
    created_by_form = await events.next()
    await app.client.delete("/api/files/local/ev/a.txt")
    deleted = await events.next()

    assert created.subject == "storage.object.created"
    assert created.json() == {
        "urn": "fs://local/ev/a.txt",
        "size": 5,
        "etag": put.json()["etag"],
        "content_type": "text/plain",
        "principal": "test-user",  # the signed-in caller (webos.sign_in_as in conftest)
    }
    assert created.headers["webos-source"] == "files"
    assert created_by_form.json()["urn"] == "fs://local/ev/b.bin"
    assert created_by_form.json()["etag"] == posted.json()["etag"]
    assert deleted.subject == "storage.object.deleted"
    assert deleted.json()["urn"] == "fs://local/ev/a.txt"
    assert events.drain() == []


async def test_a_failed_upload_stores_nothing_and_emits_nothing(webos: KernelHarness) -> None:
    app = await webos.start(["files"])
    events = await app.subscribe("storage.>")

    truncated = await app.client.post(
        "/api/files/local/ev/",
        content=b'--B\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\nabc',
        headers={"content-type": "multipart/form-data; boundary=B"},
    )

    assert truncated.status_code == 400
    assert (await app.client.get("/api/files/local/ev/t.txt")).status_code == 404
    await app.nats.flush()
    assert events.drain() == []


class PatternFile:
    """A file-like object producing ``size`` pseudo-random bytes on demand (never all at once)."""

    def __init__(self, size: int, digest: hashlib._Hash) -> None:
        self._chunks: Iterator[bytes] = self._generate(size, digest)
        self._pending = b""

    @staticmethod
    def _generate(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
        import random

        rng, left = random.Random(13), size
        while left:
            data = rng.randbytes(min(MiB, left))
            left -= len(data)
            digest.update(data)
            yield data

    def read(self, n: int = -1) -> bytes:
        if not self._pending:
            self._pending = next(self._chunks, b"")
        data, self._pending = self._pending[:n], self._pending[n:]
        return data


@pytest.fixture
def memory() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


async def _download_sha(app: RunningKernel, url: str) -> tuple[str, int]:
    digest, total = hashlib.sha256(), 0
    async with app.client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] is not None
        async for chunk in response.aiter_bytes():
            digest.update(chunk)
            total += len(chunk)
    return digest.hexdigest(), total


@pytest.mark.usefixtures("memory")
async def test_large_raw_and_multipart_uploads_stream_in_bounded_memory(
    webos: KernelHarness,
) -> None:
    """96 MiB each way, twice, while the whole gateway (this process) stays under 24 MiB extra.

    The limit is a quarter of one object: holding the object anywhere (request body, spooled
    form, response) would blow it. Everything in the test process counts, client included.
    """
    app = await webos.start(["files"], max_body_size=1 * MiB)  # the route lifts the body limit
    size = 96 * MiB
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]

    sent = hashlib.sha256()
    put = await app.client.put(
        "/api/files/local/big/raw.bin",
        content=pattern(size, digest=sent, chunk=MiB),
        headers={"content-type": "application/octet-stream"},
        timeout=120,
    )
    assert put.status_code == 201, put.text
    assert put.json()["size"] == size
    assert await _download_sha(app, "/api/files/local/big/raw.bin") == (sent.hexdigest(), size)

    form_sent = hashlib.sha256()
    posted = await app.client.post(
        "/api/files/local/big/",
        files={"file": ("form.bin", PatternFile(size, form_sent), "application/x-big")},
        timeout=120,
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["size"] == size
    assert await _download_sha(app, "/api/files/local/big/form.bin") == (
        form_sent.hexdigest(),
        size,
    )

    peak = tracemalloc.get_traced_memory()[1] - baseline
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB above baseline"


@pytest.mark.usefixtures("memory")
async def test_large_upload_to_s3_streams_in_bounded_memory(webos: KernelHarness, s3: Moto) -> None:
    """64 MiB through the gateway to moto: the SDK holds ~(parallel + 2) x 5 MiB parts."""
    app = await webos.start(["files"])
    size = 64 * MiB
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]

    sent = hashlib.sha256()
    put = await app.client.put(
        "/api/files/s3/big.bin", content=pattern(size, digest=sent), timeout=120
    )
    assert put.status_code == 201, put.text
    assert await _download_sha(app, "/api/files/s3/big.bin") == (sent.hexdigest(), size)

    peak = tracemalloc.get_traced_memory()[1] - baseline
    assert peak < 40 * MiB, f"peak {peak / MiB:.1f} MiB above baseline"
