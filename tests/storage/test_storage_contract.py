"""The backend contract, run through AFS against every backend kind (local folder and S3).

A behaviour that differs between kinds is a bug in one of them: callers must be able to move a
mount from disk to S3 without changing code.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from storagetest_helpers import MiB, pattern, pattern_bytes, sha256_of

from kernel.storage import AFS, URN, AlreadyExists, InvalidURN, NotFound, UnknownMount


async def test_write_read_roundtrip(afs: AFS, mount: str) -> None:
    stat = await afs.write(f"fs://{mount}/notes/hello.txt", b"hello world")
    assert await afs.read(f"fs://{mount}/notes/hello.txt") == b"hello world"
    assert stat.size == 11
    assert stat.urn == f"fs://{mount}/notes/hello.txt"


async def test_overwrite_replaces_content_and_changes_etag(afs: AFS, mount: str) -> None:
    first = await afs.write(f"fs://{mount}/a.bin", b"one")
    second = await afs.write(f"fs://{mount}/a.bin", b"second version")
    assert await afs.read(f"fs://{mount}/a.bin") == b"second version"
    assert second.size == 14
    assert first.etag != second.etag


async def test_empty_object(afs: AFS, mount: str) -> None:
    stat = await afs.write(f"fs://{mount}/empty", b"")
    assert stat.size == 0
    assert await afs.read(f"fs://{mount}/empty") == b""


async def test_urn_objects_are_accepted(afs: AFS, mount: str) -> None:
    await afs.write(URN(mount, "typed.txt"), b"x")
    assert await afs.read(URN(mount, "typed.txt")) == b"x"


async def test_streaming_write_and_read_of_several_mb(afs: AFS, mount: str) -> None:
    size = 12 * MiB + 12345  # several parts on S3, not chunk-aligned
    written = hashlib.sha256()
    stat = await afs.write_stream(
        f"fs://{mount}/big/blob.bin", pattern(size, chunk=256 * 1024 + 3, digest=written)
    )
    assert stat.size == size
    digest, total = await sha256_of(afs.open_read(f"fs://{mount}/big/blob.bin", chunk_size=MiB))
    assert (digest, total) == (written.hexdigest(), size)
    chunks = [len(c) async for c in afs.open_read(f"fs://{mount}/big/blob.bin", chunk_size=MiB)]
    assert max(chunks) <= MiB  # the reader honours chunk_size: memory stays bounded


@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, 10), (5, 100), (1000, None), (99_990, 10), (99_990, 50), (100_000, None), (0, 0)],
)
async def test_ranged_read(afs: AFS, mount: str, offset: int, length: int | None) -> None:
    data = pattern_bytes(100_000)
    await afs.write(f"fs://{mount}/range.bin", data)
    got = b"".join(
        [c async for c in afs.open_read(f"fs://{mount}/range.bin", offset=offset, length=length)]
    )
    end = None if length is None else offset + length
    assert got == data[offset:end]


async def test_negative_range_is_refused(afs: AFS, mount: str) -> None:
    await afs.write(f"fs://{mount}/r.bin", b"abc")
    with pytest.raises(ValueError, match="offset"):
        [c async for c in afs.open_read(f"fs://{mount}/r.bin", offset=-1)]


async def test_stat_fields(afs: AFS, mount: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await afs.write(f"fs://{mount}/docs/report.json", b'{"a": 1}', content_type="application/json")
    stat = await afs.stat(f"fs://{mount}/docs/report.json")
    assert stat.path == "docs/report.json"
    assert stat.mount == mount
    assert stat.size == 8
    assert stat.content_type == "application/json"
    assert stat.etag
    assert stat.modified is not None
    assert stat.modified.tzinfo is not None
    assert before <= stat.modified <= datetime.now(UTC) + timedelta(seconds=5)
    assert not stat.is_dir


async def test_content_type_guessed_from_name_when_not_given(afs: AFS, mount: str) -> None:
    stat = await afs.write(f"fs://{mount}/page.html", b"<p>hi</p>")
    assert stat.content_type == "text/html"
    stat = await afs.write(f"fs://{mount}/noext", b"?")
    assert stat.content_type == "application/octet-stream"


async def test_exists(afs: AFS, mount: str) -> None:
    assert not await afs.exists(f"fs://{mount}/x/y.txt")
    await afs.write(f"fs://{mount}/x/y.txt", b"y")
    assert await afs.exists(f"fs://{mount}/x/y.txt")
    assert not await afs.exists(f"fs://{mount}/x")  # a folder is not an object


async def test_list_recursive_and_not(afs: AFS, mount: str) -> None:
    for path in ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt", "docs/sub/deep/d.txt", "top.txt"]:
        await afs.write(f"fs://{mount}/{path}", path.encode())
    await afs.write(f"fs://{mount}/docsx/not-me.txt", b"sibling sharing the name prefix")

    flat = await afs.list(f"fs://{mount}/docs")
    assert [(s.path, s.is_dir) for s in flat] == [
        ("docs/a.txt", False),
        ("docs/b.txt", False),
        ("docs/sub", True),
    ]
    assert [s.size for s in flat if not s.is_dir] == [10, 10]
    assert all(s.urn.startswith(f"fs://{mount}/docs/") for s in flat)

    deep = await afs.list(f"fs://{mount}/docs/", recursive=True)
    assert [s.path for s in deep] == [
        "docs/a.txt",
        "docs/b.txt",
        "docs/sub/c.txt",
        "docs/sub/deep/d.txt",
    ]
    root = await afs.list(f"fs://{mount}")
    assert [(s.path, s.is_dir) for s in root] == [
        ("docs", True),
        ("docsx", True),
        ("top.txt", False),
    ]
    assert len(await afs.list(f"fs://{mount}/", recursive=True)) == 6
    assert await afs.list(f"fs://{mount}/nothing/here") == []


async def test_delete_then_not_found(afs: AFS, mount: str) -> None:
    urn = f"fs://{mount}/trash/item.txt"
    await afs.write(urn, b"bye")
    await afs.delete(urn)
    assert not await afs.exists(urn)
    with pytest.raises(NotFound, match=urn):
        await afs.read(urn)
    with pytest.raises(NotFound, match=urn):
        await afs.delete(urn)
    assert await afs.list(f"fs://{mount}") == []  # emptied folders disappear, as on S3


@pytest.mark.parametrize("operation", ["read", "stat", "delete", "copy", "move"])
async def test_not_found_names_the_urn(afs: AFS, mount: str, operation: str) -> None:
    urn = f"fs://{mount}/missing/file.txt"
    args = (urn, f"fs://{mount}/elsewhere.txt") if operation in ("copy", "move") else (urn,)
    with pytest.raises(NotFound) as caught:
        await getattr(afs, operation)(*args)
    assert urn in str(caught.value)
    assert caught.value.urn == urn
    assert not await afs.exists(f"fs://{mount}/elsewhere.txt")


async def test_copy_within_mount(afs: AFS, mount: str) -> None:
    await afs.write(f"fs://{mount}/src.json", b"{}", content_type="application/json")
    stat = await afs.copy(f"fs://{mount}/src.json", f"fs://{mount}/copies/dst.json")
    assert stat.urn == f"fs://{mount}/copies/dst.json"
    assert stat.content_type == "application/json"
    assert await afs.read(f"fs://{mount}/copies/dst.json") == b"{}"
    assert await afs.read(f"fs://{mount}/src.json") == b"{}"


async def test_move_within_mount(afs: AFS, mount: str) -> None:
    await afs.write(f"fs://{mount}/old/name.txt", b"content")
    stat = await afs.move(f"fs://{mount}/old/name.txt", f"fs://{mount}/new/name.txt")
    assert stat.size == 7
    assert await afs.read(f"fs://{mount}/new/name.txt") == b"content"
    assert not await afs.exists(f"fs://{mount}/old/name.txt")


async def test_move_onto_itself_keeps_the_object(afs: AFS, mount: str) -> None:
    await afs.write(f"fs://{mount}/same.txt", b"keep me")
    await afs.move(f"fs://{mount}/same.txt", f"fs://{mount}/same.txt")
    assert await afs.read(f"fs://{mount}/same.txt") == b"keep me"


async def test_unknown_mount(afs: AFS) -> None:
    with pytest.raises(UnknownMount, match=re.escape("fs://nowhere/a.txt")):
        await afs.read("fs://nowhere/a.txt")


async def test_mount_root_is_only_listable(afs: AFS, mount: str) -> None:
    with pytest.raises(InvalidURN):
        await afs.write(f"fs://{mount}/", b"x")
    with pytest.raises(InvalidURN):
        await afs.read(f"fs://{mount}")


async def test_local_folder_in_the_way(afs: AFS) -> None:
    await afs.write("fs://local/a/b.txt", b"x")
    with pytest.raises(AlreadyExists, match="fs://local/a"):
        await afs.write("fs://local/a", b"a folder is here")
    await afs.write("fs://local/file", b"x")
    with pytest.raises(AlreadyExists, match="fs://local/file/child"):
        await afs.write("fs://local/file/child", b"a file is in the way")


@pytest.mark.parametrize(("src", "dst"), [("local", "s3"), ("s3", "local")])
async def test_move_across_mounts(afs: AFS, src: str, dst: str) -> None:
    size = 7 * MiB + 1
    written = hashlib.sha256()
    await afs.write_stream(
        f"fs://{src}/x/blob.dat", pattern(size, digest=written), content_type="image/png"
    )
    stat = await afs.move(f"fs://{src}/x/blob.dat", f"fs://{dst}/y/blob.dat")
    assert (stat.mount, stat.path, stat.size) == (dst, "y/blob.dat", size)
    assert (await afs.stat(f"fs://{dst}/y/blob.dat")).content_type == "image/png"
    digest, _ = await sha256_of(afs.open_read(f"fs://{dst}/y/blob.dat"))
    assert digest == written.hexdigest()
    assert not await afs.exists(f"fs://{src}/x/blob.dat")


@pytest.mark.parametrize(("src", "dst"), [("local", "s3"), ("s3", "local")])
async def test_copy_across_mounts(afs: AFS, src: str, dst: str) -> None:
    await afs.write(f"fs://{src}/c.txt", b"copy me")
    await afs.copy(f"fs://{src}/c.txt", f"fs://{dst}/c.txt")
    assert await afs.read(f"fs://{dst}/c.txt") == b"copy me"
    assert await afs.read(f"fs://{src}/c.txt") == b"copy me"


async def test_failed_source_stream_leaves_no_object(afs: AFS, mount: str) -> None:
    async def broken() -> object:
        yield b"partial data"
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="client went away"):
        await afs.write_stream(f"fs://{mount}/partial.bin", broken())  # type: ignore[arg-type]
    assert not await afs.exists(f"fs://{mount}/partial.bin")
    assert await afs.list(f"fs://{mount}", recursive=True) == []


async def test_abandoned_read_releases_the_object(afs: AFS, mount: str) -> None:
    await afs.write_stream(f"fs://{mount}/abandon.bin", pattern(3 * MiB))
    stream = afs.open_read(f"fs://{mount}/abandon.bin", chunk_size=64 * 1024)
    first = await anext(stream)  # type: ignore[call-overload]
    await stream.aclose()  # type: ignore[attr-defined]
    assert len(first) == 64 * 1024
    await afs.delete(f"fs://{mount}/abandon.bin")
    assert not await afs.exists(f"fs://{mount}/abandon.bin")
