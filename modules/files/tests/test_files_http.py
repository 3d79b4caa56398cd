"""Uploads, downloads, ranges, validators, listings and deletes through the gateway over HTTP."""

from __future__ import annotations

import pytest

from kernel.testing import KernelHarness, RunningKernel
from kernel.testing import S3Server as Moto

from .helpers import pattern, pattern_bytes, sha256, storage_root

MOUNTS = ["local", "s3"]


@pytest.fixture(params=MOUNTS)
async def mounted(
    request: pytest.FixtureRequest, webos: KernelHarness
) -> tuple[RunningKernel, str]:
    """A running kernel and the mount under test; the s3 case starts against moto."""
    if request.param == "s3":
        request.getfixturevalue("s3")
    return await webos.start(["files"]), request.param


async def test_raw_put_then_get_round_trips_bytes_and_type(
    mounted: tuple[RunningKernel, str],
) -> None:
    app, mount = mounted
    data = pattern_bytes(3 * 1024 * 1024 + 17)

    put = await app.client.put(
        f"/api/files/{mount}/docs/report v1.bin",
        content=data,
        headers={"content-type": "application/x-report"},
    )

    assert put.status_code == 201, put.text
    stat = put.json()
    assert stat["urn"] == f"fs://{mount}/docs/report v1.bin"
    assert (stat["size"], stat["content_type"]) == (len(data), "application/x-report")
    assert stat["etag"] and stat["modified"]
    assert put.headers["location"] == f"/api/files/{mount}/docs/report%20v1.bin"
    got = await app.client.get(f"/api/files/{mount}/docs/report v1.bin")
    assert got.status_code == 200
    assert sha256(got.content) == sha256(data)
    assert got.headers["content-type"] == "application/x-report"
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["accept-ranges"] == "bytes"
    assert got.headers["etag"] == f'"{stat["etag"].strip(chr(34))}"'
    assert got.headers["last-modified"].endswith(" GMT")
    assert got.headers["x-content-type-options"] == "nosniff"


async def test_multipart_upload_streams_into_the_folder(
    mounted: tuple[RunningKernel, str],
) -> None:
    app, mount = mounted
    data = pattern_bytes(2 * 1024 * 1024 + 3, seed=11)

    posted = await app.client.post(
        f"/api/files/{mount}/inbox/",
        data={"note": "ignored"},
        files={"file": ("photo.jpg", data, "image/jpeg")},
    )

    assert posted.status_code == 201, posted.text
    assert posted.json()["urn"] == f"fs://{mount}/inbox/photo.jpg"
    assert posted.json()["content_type"] == "image/jpeg"
    got = await app.client.get(f"/api/files/{mount}/inbox/photo.jpg")
    assert sha256(got.content) == sha256(data)
    assert got.headers["content-type"] == "image/jpeg"


async def test_multipart_to_the_mount_root_and_bad_forms(webos: KernelHarness) -> None:
    app = await webos.start(["files"])

    root = await app.client.post("/api/files/local", files={"file": ("a.txt", b"A", "text/plain")})
    no_file = await app.client.post("/api/files/local/x/", data={"other": "1"})
    not_folder = await app.client.post(
        "/api/files/local/x", files={"file": ("a.txt", b"A", "text/plain")}
    )
    nested_name = await app.client.post(
        "/api/files/local/x/", files={"file": ("../evil.txt", b"A", "text/plain")}
    )
    truncated = await app.client.post(
        "/api/files/local/x/",
        content=b'--B\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\nab',
        headers={"content-type": "multipart/form-data; boundary=B"},
    )

    assert root.status_code == 201 and root.json()["urn"] == "fs://local/a.txt"
    assert [no_file.status_code, not_folder.status_code, nested_name.status_code] == [400] * 3
    assert truncated.status_code == 400
    assert no_file.headers["content-type"].startswith("application/problem+json")
    assert [p.name for p in storage_root(webos).rglob("*") if p.is_file()] == ["a.txt"]


async def test_large_streamed_upload_to_s3_uses_multipart_parts(
    webos: KernelHarness, s3: Moto
) -> None:
    """12 MiB crosses the 5 MiB part size, so the S3 mount uploads several parts."""
    import hashlib

    app = await webos.start(["files"])
    sent = hashlib.sha256()

    put = await app.client.put(
        "/api/files/s3/big/blob.bin",
        content=pattern(12 * 1024 * 1024 + 5, digest=sent),
        headers={"content-type": "application/octet-stream"},
    )

    assert put.status_code == 201, put.text
    received = hashlib.sha256()
    async with app.client.stream("GET", "/api/files/s3/big/blob.bin") as response:
        async for chunk in response.aiter_bytes():
            received.update(chunk)
    assert received.hexdigest() == sent.hexdigest()


async def test_ranges(mounted: tuple[RunningKernel, str]) -> None:
    app, mount = mounted
    data = bytes(range(256)) * 4  # 1024 bytes
    await app.client.put(f"/api/files/{mount}/r.bin", content=data)
    url = f"/api/files/{mount}/r.bin"

    middle = await app.client.get(url, headers={"range": "bytes=10-19"})
    tail = await app.client.get(url, headers={"range": "bytes=1000-"})
    suffix = await app.client.get(url, headers={"range": "bytes=-5"})
    clamped = await app.client.get(url, headers={"range": "bytes=1020-5000"})
    past_end = await app.client.get(url, headers={"range": "bytes=1024-"})
    zero_suffix = await app.client.get(url, headers={"range": "bytes=-0"})
    several = await app.client.get(url, headers={"range": "bytes=0-1,5-6"})
    garbage = await app.client.get(url, headers={"range": "bytes=z-1"})
    other_unit = await app.client.get(url, headers={"range": "items=0-1"})

    assert (middle.status_code, middle.content) == (206, data[10:20])
    assert middle.headers["content-range"] == "bytes 10-19/1024"
    assert middle.headers["content-length"] == "10"
    assert (tail.status_code, tail.content) == (206, data[1000:])
    assert tail.headers["content-range"] == "bytes 1000-1023/1024"
    assert (suffix.status_code, suffix.content) == (206, data[-5:])
    assert suffix.headers["content-range"] == "bytes 1019-1023/1024"
    assert (clamped.status_code, clamped.content) == (206, data[1020:])
    for unsatisfiable in (past_end, zero_suffix):
        assert unsatisfiable.status_code == 416
        assert unsatisfiable.headers["content-range"] == "bytes */1024"
        assert unsatisfiable.headers["content-type"] == "application/problem+json"
    for ignored in (several, garbage, other_unit):  # RFC 9110: a server may ignore Range
        assert (ignored.status_code, ignored.content) == (200, data)


async def test_if_none_match_and_if_range(mounted: tuple[RunningKernel, str]) -> None:
    app, mount = mounted
    url = f"/api/files/{mount}/cached.txt"
    await app.client.put(url, content=b"version one", headers={"content-type": "text/plain"})
    first = await app.client.get(url)
    etag = first.headers["etag"]

    cached = await app.client.get(url, headers={"if-none-match": etag})
    weak = await app.client.get(url, headers={"if-none-match": f'"nope", W/{etag}'})
    star = await app.client.get(url, headers={"if-none-match": "*"})
    other = await app.client.get(url, headers={"if-none-match": '"something-else"'})
    ranged = await app.client.get(url, headers={"range": "bytes=0-6", "if-range": etag})
    stale = await app.client.get(url, headers={"range": "bytes=0-6", "if-range": '"old"'})

    assert first.headers["content-type"] == "text/plain"
    assert (cached.status_code, cached.content) == (304, b"")
    assert cached.headers["etag"] == etag
    assert weak.status_code == 304 and star.status_code == 304
    assert (other.status_code, other.content) == (200, b"version one")
    assert (ranged.status_code, ranged.content) == (206, b"version")
    assert (stale.status_code, stale.content) == (200, b"version one")
    await app.client.put(url, content=b"version two")
    changed = await app.client.get(url, headers={"if-none-match": etag})
    assert (changed.status_code, changed.content) == (200, b"version two")
    assert changed.headers["etag"] != etag


async def test_head_matches_get(mounted: tuple[RunningKernel, str]) -> None:
    app, mount = mounted
    await app.client.put(f"/api/files/{mount}/h.json", content=b'{"a": 1}')

    got = await app.client.get(f"/api/files/{mount}/h.json")
    headed = await app.client.head(f"/api/files/{mount}/h.json")
    missing = await app.client.head(f"/api/files/{mount}/nope.json")

    assert headed.status_code == 200 and headed.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges"):
        assert headed.headers[name] == got.headers[name], name
    assert got.headers["content-type"] == "application/json"  # guessed from the name
    assert missing.status_code == 404


async def test_listing_delete_then_404(mounted: tuple[RunningKernel, str]) -> None:
    app, mount = mounted
    for name in ("dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "elsewhere.txt"):
        assert (await app.client.put(f"/api/files/{mount}/{name}", content=b"x")).status_code == 201

    flat = await app.client.get("/api/files/list", params={"prefix": f"fs://{mount}/dir"})
    deep = await app.client.get(
        "/api/files/list", params={"prefix": f"fs://{mount}/dir/", "recursive": "true"}
    )
    by_path = await app.client.get(f"/api/files/{mount}/dir/")
    by_path_deep = await app.client.get(f"/api/files/{mount}/dir/", params={"recursive": "true"})
    root = await app.client.get(f"/api/files/{mount}/")
    empty = await app.client.get("/api/files/list", params={"prefix": f"fs://{mount}/none"})

    assert flat.status_code == 200, flat.text
    assert [(i["urn"], i["is_dir"]) for i in flat.json()] == [
        (f"fs://{mount}/dir/a.txt", False),
        (f"fs://{mount}/dir/b.txt", False),
        (f"fs://{mount}/dir/sub", True),
    ]
    assert [i["path"] for i in deep.json()] == ["dir/a.txt", "dir/b.txt", "dir/sub/c.txt"]
    assert by_path.json() == flat.json() and by_path_deep.json() == deep.json()
    assert {i["path"] for i in root.json()} == {"dir", "elsewhere.txt"}
    assert empty.json() == []

    deleted = await app.client.delete(f"/api/files/{mount}/dir/a.txt")
    again = await app.client.delete(f"/api/files/{mount}/dir/a.txt")
    gone = await app.client.get(f"/api/files/{mount}/dir/a.txt")

    assert deleted.status_code == 204
    assert again.status_code == 404 and gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["status"] == 404 and "fs://" in gone.json()["detail"]
    listed = await app.client.get("/api/files/list", params={"prefix": f"fs://{mount}/dir"})
    assert [i["path"] for i in listed.json()] == ["dir/b.txt", "dir/sub"]


async def test_error_mapping(webos: KernelHarness) -> None:
    app = await webos.start(["files"])
    await app.client.put("/api/files/local/file.txt", content=b"x")

    unknown_mount = await app.client.get("/api/files/nomount/a.txt")
    bad_prefix = await app.client.get("/api/files/list", params={"prefix": "http://x"})
    file_in_the_way = await app.client.put("/api/files/local/file.txt/child", content=b"y")
    folder_in_the_way = await app.client.put("/api/files/local/dir/x", content=b"y")
    put_on_folder = await app.client.put("/api/files/local/dir", content=b"y")

    assert unknown_mount.status_code == 404
    assert "unknown mount" in unknown_mount.json()["detail"]
    assert bad_prefix.status_code == 400
    assert file_in_the_way.status_code == 409
    assert folder_in_the_way.status_code == 201
    assert put_on_folder.status_code == 409


async def test_move_and_copy_between_mounts(webos: KernelHarness, s3: Moto) -> None:
    app = await webos.start(["files"])
    events = await app.subscribe("storage.>")
    await app.client.put(
        "/api/files/local/m.txt", content=b"moving", headers={"content-type": "text/x-m"}
    )
    await events.next()

    copied = await app.client.post(
        "/api/files/copy", json={"from": "fs://local/m.txt", "to": "fs://s3/c.txt"}
    )
    moved = await app.client.post(
        "/api/files/move", json={"from": "fs://local/m.txt", "to": "fs://s3/m.txt"}
    )

    assert copied.status_code == 201 and moved.status_code == 200, (copied.text, moved.text)
    assert (await app.client.get("/api/files/s3/m.txt")).content == b"moving"
    assert (await app.client.get("/api/files/s3/c.txt")).headers["content-type"] == "text/x-m"
    assert (await app.client.get("/api/files/local/m.txt")).status_code == 404
    assert (await events.next()).subject == "storage.object.created"
    moved_event = await events.next()
    assert moved_event.subject == "storage.object.moved"
    assert moved_event.json()["from"] == "fs://local/m.txt"
    assert moved_event.json()["to"] == "fs://s3/m.txt"
