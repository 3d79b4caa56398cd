"""Guarantees specific to the embedded stand-in: API shapes, persistence, concurrency."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pymongo.errors
import pytest
from bson import ObjectId
from dbtest_models import MODELS, Account, Product
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from kernel.db import StandinClient, create_client, describe, init_models, is_persistent
from kernel.db._standin import (
    StandinCollection,
    StandinCommandCursor,
    StandinCursor,
    StandinDatabase,
)

HERE = Path(__file__).parent
REPO = HERE.parent.parent

SHAPES = [
    (StandinClient, AsyncMongoClient),
    (StandinDatabase, AsyncDatabase),
    (StandinCollection, AsyncCollection),
    (StandinCursor, AsyncCursor),
    (StandinCommandCursor, AsyncCommandCursor),
]


@pytest.mark.parametrize(("standin", "real"), SHAPES, ids=lambda cls: cls.__name__)
def test_awaitable_shapes_match_pymongo(standin: type, real: type) -> None:
    """A method awaited on the stand-in must be awaited on PyMongo too, and vice versa."""
    public = [
        name
        for name, member in vars(standin).items()
        if callable(member) and (not name.startswith("_") or name in ("__aiter__", "__anext__"))
    ]
    for base in standin.__mro__[1:-1]:
        public += [n for n, m in vars(base).items() if callable(m) and not n.startswith("_")]
    for name in public:
        if not hasattr(real, name):
            continue
        ours = inspect.iscoroutinefunction(getattr(standin, name))
        theirs = inspect.iscoroutinefunction(getattr(real, name))
        assert ours == theirs, f"{standin.__name__}.{name}: async={ours}, PyMongo async={theirs}"


async def test_reopen_sees_data_and_indexes(tmp_path: Path) -> None:
    first = create_client(None, tmp_path / "db")
    await init_models(first, "app", MODELS)
    await Product(sku="kept", name="n", category="c", price=1.0).insert()
    await Account(email="Bob@Example.com").insert()
    await first.close()

    second = create_client(None, tmp_path / "db")
    await init_models(second, "app", MODELS)
    kept = await Product.find_one(Product.sku == "kept")
    assert kept is not None
    assert kept.created.tzinfo is not None
    raw = await second["app"]["products"].find_one({"sku": "kept"})
    assert isinstance(raw["_id"], ObjectId)
    assert isinstance(raw["created"], datetime)
    assert raw["created"].tzinfo is not None
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        await Account(email="bob@example.com").insert()
    await second.close()


async def test_changes_from_another_client_are_seen(tmp_path: Path) -> None:
    one, two = create_client(None, tmp_path), create_client(None, tmp_path)
    await one["app"]["things"].insert_one({"n": 1})
    assert await two["app"]["things"].count_documents({}) == 1
    await two["app"]["things"].update_one({"n": 1}, {"$inc": {"n": 1}})
    assert (await one["app"]["things"].find_one({}, {"_id": 0})) == {"n": 2}
    await two["app"].drop_collection("things")
    assert await one["app"].list_collection_names() == []
    assert await one["app"]["things"].count_documents({}) == 0


async def test_files_are_canonical_extended_json(tmp_path: Path) -> None:
    client = create_client(None, tmp_path)
    await client["app"]["things"].insert_one({"n": 1})
    header, body = (tmp_path / "app" / "things.json").read_text().split("\n", 1)
    assert json.loads(header)["format"] == 1
    assert json.loads(body)["documents"][0]["_id"]["$oid"]
    assert not [p for p in (tmp_path / "app").iterdir() if p.name.endswith(".tmp")]


def test_two_processes_writing_concurrently(tmp_path: Path) -> None:
    data_dir, go_file = tmp_path / "db", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    script = str(HERE / "dbtest_writer.py")
    writers = [
        subprocess.Popen(
            [sys.executable, script, str(data_dir), "app", prefix, "200", str(go_file), other],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix, other in (("p1", "p2"), ("p2", "p1"))
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
    go_file.touch()
    reports = []
    for writer in writers:
        out, err = writer.communicate(timeout=90)  # a failure bound for a deadlock, not a speed
        assert writer.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    # Each writer, after its first insert, waited to see the other's: neither process locked the
    # other out, and both saw each other's writes while running.
    assert [r["saw_other"] for r in reports] == [True, True]
    shared_keys = 4  # i in (0, 50, 100, 150)
    assert sum(r["duplicates"] for r in reports) == shared_keys
    assert sum(r["inserted"] for r in reports) == 400 + shared_keys

    check = subprocess.run(
        [sys.executable, "-c", _CHECK_SCRIPT, str(data_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout) == {"p1": 200, "p2": 200, "x": shared_keys, "dup": True}


_CHECK_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
import pymongo.errors
from dbtest_models import MODELS, Product
from kernel.db import create_client, init_models

async def main():
    client = create_client(None, Path(sys.argv[1]))
    await init_models(client, "app", MODELS)
    counts = {c: await Product.find(Product.category == c).count() for c in ("p1", "p2", "x")}
    try:
        await Product(sku="p1-7", name="again", category="p2", price=0).insert()
        counts["dup"] = False
    except pymongo.errors.DuplicateKeyError:
        counts["dup"] = True
    print(json.dumps(counts))

asyncio.run(main())
"""


async def test_describe_and_persistence_flags(tmp_path: Path) -> None:
    memory, disk = create_client(None, None), create_client(None, tmp_path / "db")
    real = create_client("mongodb://user:secret@127.0.0.1:27017/x", None)
    try:
        assert is_persistent(memory) is False
        assert is_persistent(disk) is True
        assert is_persistent(real) is True
        assert "in-memory" in describe(memory)
        assert describe(disk) == (
            f"embedded document store at {tmp_path / 'db'} "
            "(per machine, not shared with a real MongoDB)"
        )
        assert describe(real) == "MongoDB at 127.0.0.1:27017"
        assert "secret" not in describe(real)
    finally:
        await real.close()


async def test_transactions_and_change_streams_are_refused() -> None:
    client = create_client(None, None)
    async with client.start_session() as session:
        await client["app"]["t"].insert_one({"n": 1}, session=session)  # sessions are ignored
        with pytest.raises(NotImplementedError, match="transactions"):
            session.start_transaction()
    with pytest.raises(NotImplementedError, match="change streams"):
        await client["app"]["t"].watch()


async def test_collation_is_not_enforced_hence_the_normalised_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Documents why models must not rely on a collation index on the stand-in."""
    collection = create_client(None, None)["app"]["people"]
    await collection.create_index("email", unique=True, collation={"locale": "en", "strength": 2})
    assert "ignores the collation" in caplog.text
    await collection.insert_one({"email": "a@x.io"})
    await collection.insert_one({"email": "A@X.IO"})  # a real MongoDB would reject this
    assert await collection.count_documents({}) == 2


def test_foreign_errors_become_pymongo_errors() -> None:
    """If mongomock ever stops reusing PyMongo's classes, callers still see PyMongo's."""
    from kernel.db._standin import _translate

    class DuplicateKeyError(Exception):  # what mongomock defines when PyMongo is absent
        code = 11000

    translated = _translate(DuplicateKeyError("E11000 duplicate key"))
    assert isinstance(translated, pymongo.errors.DuplicateKeyError)
    assert translated.code == 11000
    assert type(_translate(KeyError("x"))) is pymongo.errors.PyMongoError


async def test_store_files_are_readable_by_the_owner_only(tmp_path) -> None:
    import stat

    from kernel.db import create_client

    client = create_client(None, tmp_path / "db")
    await client["webos"]["secrets"].insert_one({"hash": "argon2id$..."})
    await client.close()
    files = [path for path in (tmp_path / "db").rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
