"""Change events: what subscribers (search index, thumbnails, audit) will rely on."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.storage import AFS, OBJECT_CREATED, OBJECT_DELETED, OBJECT_MOVED, LocalBackend

Events = list[tuple[str, dict[str, Any]]]


def test_subjects_are_stable() -> None:
    assert (OBJECT_CREATED, OBJECT_DELETED, OBJECT_MOVED) == (
        "storage.object.created",
        "storage.object.deleted",
        "storage.object.moved",
    )


async def test_write_emits_created(afs: AFS, events: Events, mount: str) -> None:
    stat = await afs.write(f"fs://{mount}/e/a.txt", b"hello", content_type="text/plain")
    assert events == [
        (
            OBJECT_CREATED,
            {
                "urn": f"fs://{mount}/e/a.txt",
                "size": 5,
                "etag": stat.etag,
                "content_type": "text/plain",
                "principal": "alice",
            },
        )
    ]


async def test_delete_emits_deleted(afs: AFS, events: Events, mount: str) -> None:
    await afs.write(f"fs://{mount}/d.txt", b"x")
    events.clear()
    await afs.delete(f"fs://{mount}/d.txt")
    assert events == [(OBJECT_DELETED, {"urn": f"fs://{mount}/d.txt", "principal": "alice"})]


async def test_move_emits_one_moved_event(afs: AFS, events: Events) -> None:
    await afs.write("fs://local/m.txt", b"move me")
    events.clear()
    stat = await afs.move("fs://local/m.txt", "fs://s3/m.txt")
    assert events == [
        (
            OBJECT_MOVED,
            {
                "from": "fs://local/m.txt",
                "to": "fs://s3/m.txt",
                "size": 7,
                "etag": stat.etag,
                "principal": "alice",
            },
        )
    ]


async def test_copy_emits_created_for_destination(afs: AFS, events: Events) -> None:
    await afs.write("fs://s3/c.json", b"{}", content_type="application/json")
    events.clear()
    stat = await afs.copy("fs://s3/c.json", "fs://local/c.json")
    assert events == [
        (
            OBJECT_CREATED,
            {
                "urn": "fs://local/c.json",
                "size": 2,
                "etag": stat.etag,
                "content_type": "application/json",
                "principal": "alice",
            },
        )
    ]


async def test_failed_operations_emit_nothing(afs: AFS, events: Events) -> None:
    with pytest.raises(LookupError):
        await afs.delete("fs://local/missing.txt")
    with pytest.raises(LookupError):
        await afs.move("fs://local/missing.txt", "fs://s3/x.txt")
    assert events == []


async def test_principal_is_asked_at_each_event(tmp_path: object, events: Events) -> None:
    who = iter(["alice", None])

    async def sink(subject: str, payload: dict[str, Any]) -> None:
        events.append((subject, payload))

    fs = AFS({"m": LocalBackend(str(tmp_path))}, emit=sink, principal_provider=lambda: next(who))
    await fs.write("fs://m/a", b"1")
    await fs.write("fs://m/b", b"2")
    assert [p["principal"] for _, p in events] == ["alice", None]


async def test_broken_sink_does_not_fail_the_write(tmp_path: object) -> None:
    async def sink(subject: str, payload: dict[str, Any]) -> None:
        raise ConnectionError("bus down")

    fs = AFS({"m": LocalBackend(str(tmp_path))}, emit=sink)
    await fs.write("fs://m/a", b"kept")
    assert await fs.read("fs://m/a") == b"kept"
