"""Result cursors of the embedded document store, shaped like PyMongo's async cursors.

``find()`` returns a :class:`StandinCursor` synchronously and runs the query on first fetch, as
``AsyncCursor`` does; ``aggregate()``/``list_indexes()`` are awaited and return a
:class:`StandinCommandCursor` holding the rows, as ``AsyncCommandCursor`` does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pymongo.errors

if TYPE_CHECKING:
    from kernel.db._standin import StandinCollection

__all__ = ["StandinCommandCursor", "StandinCursor"]

# Options that only matter to a server; mongomock rejects some of them.
IGNORED_KWARGS = ("session", "comment", "maxTimeMS", "max_time_ms", "let")
_FIND_POSITIONAL = ("filter", "projection", "skip", "limit", "no_cursor_timeout", "cursor_type")


def clean(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop the options in :data:`IGNORED_KWARGS`."""
    return {key: value for key, value in kwargs.items() if key not in IGNORED_KWARGS}


class _ListCursor:
    """Shared behaviour of the result cursors: buffered rows, async iteration, ``to_list``."""

    def __init__(self) -> None:
        self._rows: deque[dict[str, Any]] | None = None

    async def _fetch(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def _buffer(self) -> deque[dict[str, Any]]:
        if self._rows is None:
            self._rows = deque(await self._fetch())
        return self._rows

    def __aiter__(self) -> _ListCursor:
        return self

    async def __anext__(self) -> dict[str, Any]:
        rows = await self._buffer()
        if not rows:
            raise StopAsyncIteration
        return rows.popleft()

    async def next(self) -> dict[str, Any]:
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise StopAsyncIteration from None

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        if length is not None and length < 1:
            raise ValueError("to_list() length must be greater than 0")
        rows = await self._buffer()
        count = len(rows) if length is None else min(length, len(rows))
        return [rows.popleft() for _ in range(count)]

    @property
    def alive(self) -> bool:
        return self._rows is None or bool(self._rows)

    async def close(self) -> None:
        self._rows = deque()

    def batch_size(self, batch_size: int) -> _ListCursor:
        return self

    async def __aenter__(self) -> _ListCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class StandinCommandCursor(_ListCursor):
    """Result of ``aggregate()``/``list_indexes()``: rows are computed when awaited."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self._rows = deque(rows)

    async def try_next(self) -> dict[str, Any] | None:
        rows = await self._buffer()
        return rows.popleft() if rows else None


class StandinCursor(_ListCursor):
    """Lazy ``find()`` cursor: chaining is synchronous, the query runs on first fetch."""

    def __init__(self, collection: StandinCollection, args: tuple[Any, ...], kwargs: dict) -> None:
        super().__init__()
        self._collection = collection
        # Name positional arguments so later .skip()/.limit()/.sort() calls can override them.
        self._kwargs = clean({**dict(zip(_FIND_POSITIONAL, args, strict=False)), **kwargs})

    def _check_unused(self) -> None:
        if self._rows is not None:
            raise pymongo.errors.InvalidOperation("cannot set options after executing query")

    def sort(self, key_or_list: Any, direction: int | None = None) -> StandinCursor:
        self._check_unused()
        if isinstance(key_or_list, str):
            self._kwargs["sort"] = [(key_or_list, 1 if direction is None else direction)]
        elif isinstance(key_or_list, Mapping):
            self._kwargs["sort"] = list(key_or_list.items())
        else:
            self._kwargs["sort"] = list(key_or_list)
        return self

    def skip(self, skip: int) -> StandinCursor:
        self._check_unused()
        self._kwargs["skip"] = skip
        return self

    def limit(self, limit: int) -> StandinCursor:
        self._check_unused()
        self._kwargs["limit"] = limit
        return self

    def hint(self, index: Any) -> StandinCursor:
        return self

    def max_time_ms(self, max_time_ms: int | None) -> StandinCursor:
        return self

    async def _fetch(self) -> list[dict[str, Any]]:
        if not self._kwargs.get("sort"):
            self._kwargs.pop("sort", None)  # mongomock and PyMongo disagree on an empty sort
        mock = self._collection._mock
        return await self._collection._run(lambda: list(mock.find(**self._kwargs)))
