"""Embedded stand-in for ``pymongo.AsyncMongoClient``.

No MongoDB server exists on development machines, motor is end-of-life and Beanie 2 talks only
to PyMongo's native async API, so this module wraps the synchronous ``mongomock`` engine in the
*same shapes* as PyMongo's async classes: methods PyMongo declares ``async`` are coroutines here
too, ``find()`` stays synchronous and returns a cursor, ``aggregate()``/``list_indexes()`` are
awaited and return a command cursor. Code written against the stand-in therefore runs unchanged
against a real server. Sessions are accepted and ignored; transactions, change streams, views
and collations are refused or ignored as documented in ``docs/data.md``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import mongomock
import pymongo.errors
from mongomock.store import ServerStore
from pymongo import IndexModel

from kernel.db._cursors import StandinCommandCursor, StandinCursor, clean
from kernel.db._persist import DiskMirror

__all__ = [
    "StandinClient",
    "StandinCollection",
    "StandinCommandCursor",
    "StandinCursor",
    "StandinDatabase",
]

_log = logging.getLogger("kernel.db.standin")
T = TypeVar("T")
STANDIN_VERSION = "7.0.0"  # what Beanie's version gates see; only the major number is used


def _translate(exc: Exception) -> Exception:
    """Map a mongomock error onto the ``pymongo.errors`` class of the same name."""
    cls: Any = getattr(pymongo.errors, type(exc).__name__, pymongo.errors.PyMongoError)
    if issubclass(cls, pymongo.errors.BulkWriteError):
        return cls(getattr(exc, "details", None) or {})
    if issubclass(cls, pymongo.errors.OperationFailure):
        return cls(str(exc), getattr(exc, "code", None), getattr(exc, "details", None))
    return cls(str(exc))


def _writes_other_collections(pipeline: Sequence[Mapping[str, Any]]) -> bool:
    return any("$out" in stage or "$merge" in stage for stage in pipeline)


class StandinSession:
    """Accepted wherever PyMongo takes ``session=`` so code can pass one; it changes nothing."""

    def __init__(self, client: StandinClient) -> None:
        self.client = client

    async def __aenter__(self) -> StandinSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.end_session()

    async def end_session(self) -> None:
        return None

    def start_transaction(self, *args: Any, **kwargs: Any) -> Any:
        # A transaction that cannot roll back would silently corrupt data, so refuse loudly.
        raise NotImplementedError("the embedded document store does not support transactions")

    async def with_transaction(self, *args: Any, **kwargs: Any) -> Any:
        self.start_transaction()


class StandinCollection:
    """Async facade over one mongomock collection, shaped like ``AsyncCollection``."""

    def __init__(self, database: StandinDatabase, name: str) -> None:
        self.database = database
        self.name = name
        self.full_name = f"{database.name}.{name}"
        self._mock: mongomock.Collection = database._mock[name]

    def __repr__(self) -> str:
        return f"StandinCollection({self.full_name!r})"

    def __getitem__(self, name: str) -> StandinCollection:
        return self.database[f"{self.name}.{name}"]

    def with_options(self, **kwargs: Any) -> StandinCollection:
        return self

    async def _run(self, op: Callable[[], T], *, write: bool = False, flush_all: bool = False) -> T:
        names = None if flush_all else [self.name]
        return await self.database.client._run(self.database.name, op, write, names)

    def _call(self, method: str, *args: Any, write: bool = False, **kwargs: Any) -> Any:
        bound = getattr(self._mock, method)
        return self._run(lambda: bound(*args, **clean(kwargs)), write=write)

    # -- reads ---------------------------------------------------------------------------

    def find(self, *args: Any, **kwargs: Any) -> StandinCursor:
        return StandinCursor(self, args, kwargs)

    async def find_one(self, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        return await self._call("find_one", filter, *args, **kwargs)

    async def count_documents(self, filter: Mapping[str, Any], **kwargs: Any) -> int:
        return await self._call("count_documents", filter, **kwargs)

    async def estimated_document_count(self, **kwargs: Any) -> int:
        return await self._call("estimated_document_count", **kwargs)

    async def distinct(self, key: str, filter: Any = None, **kwargs: Any) -> list[Any]:
        return await self._call("distinct", key, filter, **kwargs)

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], **kwargs: Any) -> Any:
        writes = _writes_other_collections(pipeline)
        rows = await self._run(
            lambda: list(self._mock.aggregate(list(pipeline), **clean(kwargs))),
            write=writes,
            flush_all=writes,
        )
        return StandinCommandCursor(rows)

    async def index_information(self, **kwargs: Any) -> dict[str, Any]:
        info = await self._call("index_information")
        # mongomock can hand back dict views; PyMongo gives lists of (field, direction) pairs.
        return {name: {**spec, "key": list(spec["key"])} for name, spec in info.items()}

    async def list_indexes(self, **kwargs: Any) -> StandinCommandCursor:
        indexes: list[dict[str, Any]] = await self._run(
            lambda: [dict(index) for index in self._mock.list_indexes()]
        )
        return StandinCommandCursor(indexes)

    # -- writes --------------------------------------------------------------------------

    async def insert_one(self, document: Any, **kwargs: Any) -> Any:
        try:
            return await self._call("insert_one", document, write=True, **kwargs)
        except pymongo.errors.DuplicateKeyError as error:
            # mongomock says only "Duplicate Key Error"; MongoDB names the index's fields in
            # details["keyPattern"], which callers use to say which value clashed.
            pattern = await self._run(lambda: self._clashing_index(document))
            raise pymongo.errors.DuplicateKeyError(
                str(error), 11000, {"keyPattern": pattern} if pattern else None
            ) from error

    def _clashing_index(self, document: Mapping[str, Any]) -> dict[str, int] | None:
        for spec in self._mock.index_information().values():
            if not spec.get("unique"):
                continue
            fields = [field for field, _ in spec["key"]]
            if self._mock.find_one({field: document.get(field) for field in fields}) is not None:
                return dict.fromkeys(fields, 1)
        return None

    async def insert_many(self, documents: Any, **kwargs: Any) -> Any:
        return await self._call("insert_many", list(documents), write=True, **kwargs)

    async def update_one(self, filter: Any, update: Any, **kwargs: Any) -> Any:
        return await self._call("update_one", filter, update, write=True, **kwargs)

    async def update_many(self, filter: Any, update: Any, **kwargs: Any) -> Any:
        return await self._call("update_many", filter, update, write=True, **kwargs)

    async def replace_one(self, filter: Any, replacement: Any, **kwargs: Any) -> Any:
        return await self._call("replace_one", filter, replacement, write=True, **kwargs)

    async def delete_one(self, filter: Any, **kwargs: Any) -> Any:
        return await self._call("delete_one", filter, write=True, **kwargs)

    async def delete_many(self, filter: Any, **kwargs: Any) -> Any:
        return await self._call("delete_many", filter, write=True, **kwargs)

    async def find_one_and_update(self, filter: Any, update: Any, **kwargs: Any) -> Any:
        return await self._call("find_one_and_update", filter, update, write=True, **kwargs)

    async def find_one_and_replace(self, filter: Any, replacement: Any, **kwargs: Any) -> Any:
        return await self._call("find_one_and_replace", filter, replacement, write=True, **kwargs)

    async def find_one_and_delete(self, filter: Any, **kwargs: Any) -> Any:
        return await self._call("find_one_and_delete", filter, write=True, **kwargs)

    async def bulk_write(self, requests: Sequence[Any], **kwargs: Any) -> Any:
        kwargs.pop("bypass_document_validation", None)
        return await self._call("bulk_write", list(requests), write=True, **kwargs)

    async def create_indexes(self, indexes: Sequence[IndexModel], **kwargs: Any) -> list[str]:
        specs = []
        for index in indexes:
            spec = dict(index.document)
            if spec.pop("collation", None) is not None:
                _log.warning(
                    "embedded document store ignores the collation of index %r on %s; "
                    "enforce the rule on a normalised field instead",
                    spec.get("name"),
                    self.full_name,
                )
            specs.append((list(spec.pop("key").items()), spec))
        return await self._run(
            lambda: [self._mock.create_index(key, **spec) for key, spec in specs], write=True
        )

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        kwargs = clean(kwargs)
        return (await self.create_indexes([IndexModel(keys, **kwargs)]))[0]

    async def drop_index(self, index_or_name: Any, **kwargs: Any) -> None:
        await self._call("drop_index", index_or_name, write=True)

    async def drop_indexes(self, **kwargs: Any) -> None:
        await self._call("drop_indexes", write=True)

    async def drop(self, **kwargs: Any) -> None:
        await self.database.drop_collection(self.name)

    async def watch(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the embedded document store does not support change streams")


class StandinDatabase:
    """Async facade over one mongomock database, shaped like ``AsyncDatabase``."""

    def __init__(self, client: StandinClient, name: str) -> None:
        self.client = client
        self.name = name
        self._mock: mongomock.Database = client._mock[name]

    def __repr__(self) -> str:
        return f"StandinDatabase({self.name!r})"

    def __getitem__(self, name: str) -> StandinCollection:
        return StandinCollection(self, name)

    def get_collection(self, name: str, **kwargs: Any) -> StandinCollection:
        return self[name]

    def with_options(self, **kwargs: Any) -> StandinDatabase:
        return self

    async def list_collection_names(self, filter: Any = None, **kwargs: Any) -> list[str]:
        # Beanie passes authorizedCollections/nameOnly, which are meaningless here.
        return await self.client._run(
            self.name, lambda: sorted(self._mock.list_collection_names(filter)), False, []
        )

    async def create_collection(self, name: str, **kwargs: Any) -> StandinCollection:
        # Options such as timeseries or validators are accepted and not applied.
        await self.client._run(self.name, lambda: self._mock.create_collection(name), True, [name])
        return self[name]

    async def drop_collection(self, name_or_collection: Any, **kwargs: Any) -> None:
        name = getattr(name_or_collection, "name", name_or_collection)
        await self.client._run(self.name, lambda: self._mock.drop_collection(name), True, [name])

    async def command(self, command: Any, value: Any = 1, **kwargs: Any) -> dict[str, Any]:
        spec = {command: value} if isinstance(command, str) else dict(command)
        name = next(iter(spec))
        if name.lower() == "buildinfo":
            major, minor, patch = (int(part) for part in STANDIN_VERSION.split("."))
            return {
                "version": STANDIN_VERSION,
                "versionArray": [major, minor, patch, 0],
                "webosStandin": True,
                "ok": 1.0,
            }
        if name == "ping":
            # A readiness probe: answer only if the store can serve (client open, and with a
            # data directory, its lock taken), as a server that answers a ping can.
            await self.client._run(self.name, lambda: None, False, [], refresh=False)
            return {"ok": 1.0}
        if name in ("hello", "isMaster", "ismaster"):
            return {"ok": 1.0}
        if name == "create" and "viewOn" not in spec:
            await self.create_collection(spec["create"])
            return {"ok": 1.0}
        if name == "dropDatabase":
            await self.client.drop_database(self.name)
            return {"ok": 1.0}
        what = "views" if "viewOn" in spec else f"the {name!r} command"
        raise NotImplementedError(f"the embedded document store does not support {what}")

    async def watch(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the embedded document store does not support change streams")


class StandinClient:
    """In-process document store answering to the ``AsyncMongoClient`` API Beanie 2 uses.

    With ``data_dir`` the data is mirrored to disk (see ``kernel.db._persist``) and operations
    run in a worker thread, because waiting for another process's file lock or writing a
    collection file must not stall the event loop. Without it everything stays in memory.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        server = ServerStore()
        self._mock: Any = mongomock.MongoClient(tz_aware=True, _store=server)
        self._lock = threading.RLock()
        self.data_dir = data_dir
        self._mirror = DiskMirror(Path(data_dir), server) if data_dir is not None else None
        self._closed = False

    def __repr__(self) -> str:
        return f"StandinClient(data_dir={self.data_dir!r})"

    def __getitem__(self, name: str) -> StandinDatabase:
        return StandinDatabase(self, name)

    def get_database(self, name: str | None = None, **kwargs: Any) -> StandinDatabase:
        if name is None:  # PyMongo would use the URL's database; there is no URL here
            raise pymongo.errors.ConfigurationError("No default database defined")
        return self[name]

    @property
    def admin(self) -> StandinDatabase:
        return self["admin"]

    def append_metadata(self, driver_info: Any) -> None:
        return None  # Beanie announces itself to servers; there is nobody to tell here

    def start_session(self, **kwargs: Any) -> StandinSession:
        return StandinSession(self)

    async def server_info(self) -> dict[str, Any]:
        return await self.admin.command("buildInfo")

    async def list_database_names(self, **kwargs: Any) -> list[str]:
        if self._mirror is not None:
            mirror = self._mirror
            return await self._run("admin", mirror.database_names, False, [], refresh=False)
        return sorted(self._mock.list_database_names())

    async def drop_database(self, name_or_database: Any, **kwargs: Any) -> None:
        name = getattr(name_or_database, "name", name_or_database)

        def drop() -> None:
            self._mock.drop_database(name)
            if self._mirror is not None:
                self._mirror.drop_database(name)

        await self._run(name, drop, True, [], refresh=False)

    async def close(self) -> None:
        self._closed = True

    aclose = close

    async def __aenter__(self) -> StandinClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run(
        self,
        db_name: str,
        op: Callable[[], T],
        write: bool,
        names: list[str] | None,
        *,
        refresh: bool = True,
    ) -> T:
        """Run one mongomock call atomically; ``names`` are the collections it may change."""
        if self._closed:
            raise pymongo.errors.InvalidOperation("cannot use a closed client")
        if self._mirror is None:
            return self._locked(db_name, op, write, names, refresh)
        return await asyncio.to_thread(self._locked, db_name, op, write, names, refresh)

    def _locked(
        self,
        db_name: str,
        op: Callable[[], T],
        write: bool,
        names: list[str] | None,
        refresh: bool,
    ) -> T:
        with self._lock:
            if self._mirror is None:
                return self._invoke(op)
            with self._mirror.locked(exclusive=write):
                if refresh:
                    self._mirror.refresh(db_name)
                try:
                    return self._invoke(op)
                finally:
                    if write and names != []:
                        self._mirror.flush(db_name, names)

    @staticmethod
    def _invoke(op: Callable[[], T]) -> T:
        try:
            return op()
        except pymongo.errors.PyMongoError:
            raise
        except mongomock.PyMongoError as exc:  # type: ignore[attr-defined]  # without pymongo
            raise _translate(exc) from exc
