"""Disk mirror for the embedded document store.

The stand-in keeps every collection in memory (mongomock) and mirrors it to one JSON file per
collection so that data survives restarts and several processes can share a directory. The
protocol, which every operation follows while holding an ``flock`` on ``<root>/.lock``:

* shared lock for reads, exclusive lock for writes, so a reader never sees half a write;
* before touching the data, compare the database's generation token (``<db>/.generation``,
  a random id replaced on every write) with the one this process last saw; only if it changed,
  re-read each collection file whose own token (its first line) changed. Random tokens, unlike
  mtime/inode comparisons, cannot be fooled by coarse timestamps or inode reuse;
* after a write, serialise the collection to a temporary file in the same directory, fsync it
  and ``os.replace`` it over the old one, so a crash leaves either the old or the new file.

Documents are stored as canonical Extended JSON (``bson.json_util``) so ObjectId, datetime,
Int64, Decimal128 and binary values come back with their BSON types.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS
from mongomock import helpers as mongomock_helpers
from mongomock.store import CollectionStore, ServerStore

_FORMAT = 1
_SUFFIX = ".json"
_GENERATION = ".generation"
_LOAD_OPTIONS = CANONICAL_JSON_OPTIONS.with_options(tz_aware=True)


def _encode(name: str) -> str:
    # Collection names may contain characters that are awkward or unsafe in file names.
    return quote(name, safe="-_.")


class DiskMirror:
    """Keeps a mongomock ``ServerStore`` in step with a directory shared between processes."""

    def __init__(self, root: Path, server: ServerStore) -> None:
        self.root = root
        self._server = server
        self._tokens: dict[tuple[str, str], str] = {}
        self._generations: dict[str, str] = {}
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_path = root / ".lock"

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the directory-wide lock; a fresh descriptor per call keeps threads independent."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def db_dir(self, db_name: str) -> Path:
        return self.root / _encode(db_name)

    def collection_names(self, db_name: str) -> list[str]:
        directory = self.db_dir(db_name)
        if not directory.is_dir():
            return []
        return sorted(
            unquote(path.name[: -len(_SUFFIX)])
            for path in directory.iterdir()
            if path.name.endswith(_SUFFIX) and not path.name.startswith(".")
        )

    def database_names(self) -> list[str]:
        return sorted(
            unquote(path.name)
            for path in self.root.iterdir()
            if path.is_dir() and any(path.glob(f"*{_SUFFIX}"))
        )

    # -- reading -------------------------------------------------------------------------

    def refresh(self, db_name: str) -> None:
        """Bring every collection of ``db_name`` up to date with what other writers left."""
        generation = self._read_generation(db_name)
        if generation is not None and generation == self._generations.get(db_name):
            return
        on_disk = set(self.collection_names(db_name))
        db_store = self._server[db_name]
        known = {name for (db, name) in self._tokens if db == db_name}
        for name in (known | set(db_store.list_created_collection_names())) - on_disk:
            db_store[name].drop()  # dropped by another process (or never written)
            self._tokens.pop((db_name, name), None)
        for name in on_disk:
            self._refresh_collection(db_name, name, db_store[name])
        if generation is not None:
            self._generations[db_name] = generation

    def _read_generation(self, db_name: str) -> str | None:
        try:
            return (self.db_dir(db_name) / _GENERATION).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def _refresh_collection(self, db_name: str, name: str, store: CollectionStore) -> None:
        path = self.db_dir(db_name) / f"{_encode(name)}{_SUFFIX}"
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            header = json.loads(handle.readline())
            if header.get("format") != _FORMAT:
                raise RuntimeError(f"{path}: unsupported store format {header.get('format')!r}")
            if header["token"] == self._tokens.get((db_name, name)):
                return
            body = json_util.loads(handle.read(), json_options=_LOAD_OPTIONS)
        store.drop()
        for document in body["documents"]:
            key = document["_id"]
            store[mongomock_helpers.hashdict(key) if isinstance(key, dict) else key] = document
        for index_name, index in body["indexes"].items():
            index["key"] = [(field, direction) for field, direction in index["key"]]
            store.create_index(index_name, index)
        if body["created"]:
            store.create()
        self._tokens[(db_name, name)] = header["token"]

    # -- writing -------------------------------------------------------------------------

    def flush(self, db_name: str, names: Iterable[str] | None = None) -> None:
        """Write the named collections (all known ones when ``names`` is None) to disk."""
        db_store = self._server[db_name]
        if names is None:
            names = set(db_store.list_created_collection_names()) | set(
                self.collection_names(db_name)
            )
        # The generation goes first: if we crash part-way, readers still notice a change.
        # It needs no fsync; after a power loss every cached generation is gone anyway.
        generation = uuid.uuid4().hex
        self._write_atomically(self.db_dir(db_name) / _GENERATION, generation, durable=False)
        for name in names:
            self._flush_collection(db_name, name, db_store[name])
        self._generations[db_name] = generation

    def _flush_collection(self, db_name: str, name: str, store: CollectionStore) -> None:
        directory = self.db_dir(db_name)
        path = directory / f"{_encode(name)}{_SUFFIX}"
        if not store.is_created:
            path.unlink(missing_ok=True)
            self._tokens.pop((db_name, name), None)
            return
        token = uuid.uuid4().hex
        body: dict[str, Any] = {
            "documents": list(store.documents),
            "indexes": {
                index_name: {**index, "key": [list(pair) for pair in index["key"]]}
                for index_name, index in store.indexes.items()
            },
            "created": bool(store._is_force_created),
        }
        header = json.dumps({"format": _FORMAT, "token": token})
        body_text = json_util.dumps(body, json_options=CANONICAL_JSON_OPTIONS)
        self._write_atomically(path, f"{header}\n{body_text}")
        self._tokens[(db_name, name)] = token

    @staticmethod
    def _write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            # Owner-only: collections hold password hashes, tokens and API key digests.
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)

    def drop_database(self, db_name: str) -> None:
        shutil.rmtree(self.db_dir(db_name), ignore_errors=True)
        for key in [key for key in self._tokens if key[0] == db_name]:
            del self._tokens[key]
        self._generations.pop(db_name, None)
