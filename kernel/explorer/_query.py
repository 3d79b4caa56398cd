"""One page of a model's list: sort by a field, filter by fields, search, continue by cursor.

Pages continue by cursor, never by skip: the cursor holds the sort field, the last row's value of
it and its ``_id`` (the tie-breaker), so a page is one indexed range query however deep it is,
and rows inserted meanwhile neither repeat nor vanish. Only visible fields can be sorted,
filtered or searched: a hidden field cannot be probed one comparison at a time.
"""

from __future__ import annotations

import base64
import binascii
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beanie import Document, SortDirection
from bson import ObjectId, json_util
from bson.errors import BSONError, InvalidId
from pydantic import TypeAdapter, ValidationError

from kernel.explorer._problems import BadQuery
from kernel.explorer._views import ModelView

_JSON = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True)
#: Query parameters of a list; every other parameter filters by the field it names.
RESERVED = frozenset({"sort", "q", "cursor", "limit"})
_SCALARS = (str, int, float, bool, datetime, ObjectId, type(None))


@dataclass(frozen=True)
class ListQuery:
    sort: str = "id"  # a field, "-field" for descending
    search: str = ""
    cursor: str | None = None
    limit: int = 50
    filters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, str], limit: int = 50) -> ListQuery:
        filters = {k: v for k, v in params.items() if k not in RESERVED and not k.startswith("_")}
        return cls(
            sort=params.get("sort") or "id",
            search=(params.get("q") or "").strip(),
            cursor=params.get("cursor") or None,
            limit=limit,
            filters=filters,
        )


@dataclass(frozen=True)
class Page:
    records: list[Document]
    next_cursor: str | None


async def list_page(view: ModelView, query: ListQuery) -> Page:
    name, direction = _sort(view, query.sort)
    key = _db_name(name)
    conditions: list[dict[str, Any]] = [
        {_db_name(f): _coerce(view, f, raw)} for f, raw in sorted(query.filters.items())
    ]
    if query.search:
        if not view.search_fields:
            raise BadQuery(f"{view.key} has no search fields (name them in its Admin options)")
        pattern = {"$regex": re.escape(query.search), "$options": "i"}
        conditions.append({"$or": [{f: pattern} for f in view.search_fields]})
    if query.cursor:
        conditions.append(_after(view, query.cursor, query.sort, key, direction))
    found = (
        await view.document.find({"$and": conditions} if conditions else {})
        .sort([(key, direction), ("_id", direction)])
        .limit(query.limit + 1)
        .to_list()
    )
    if len(found) <= query.limit:
        return Page(found, None)
    last = found[query.limit - 1]
    value = last.id if key == "_id" else getattr(last, name)
    return Page(found[: query.limit], encode_cursor(query.sort, value, last.id))


def _sort(view: ModelView, sort: str) -> tuple[str, SortDirection]:
    name = sort.removeprefix("-")
    if name not in view.visible:
        raise BadQuery(f"cannot sort {view.key} by {name!r}; fields: {_names(view)}")
    descending = sort.startswith("-")
    return name, SortDirection.DESCENDING if descending else SortDirection.ASCENDING


def _db_name(name: str) -> str:
    return "_id" if name == "id" else name


def _names(view: ModelView) -> str:
    return ", ".join(sorted(view.visible))


def _coerce(view: ModelView, name: str, raw: str) -> Any:
    """The typed value a filter compares with (``?active=false`` is the boolean)."""
    if name not in view.visible:
        raise BadQuery(f"cannot filter {view.key} by {name!r}; fields: {_names(view)}")
    if name == "id":
        try:
            return ObjectId(raw)
        except InvalidId:
            raise BadQuery(f"{raw!r} is not a record id") from None
    annotation = view.document.model_fields[name].annotation
    # A list field matches records whose list holds the value: compare with one element.
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        annotation = (typing.get_args(annotation) or (str,))[0]
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    try:
        return adapter.dump_python(adapter.validate_python(raw))
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise BadQuery(f"filter {name}={raw!r}: {message}") from None


def encode_cursor(sort: str, value: Any, last_id: Any) -> str:
    text = json_util.dumps([sort, value, last_id], json_options=_JSON)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _after(
    view: ModelView, cursor: str, sort: str, key: str, direction: SortDirection
) -> dict[str, Any]:
    """Rows after the cursor's row in this sort order; a cursor of another sort is refused."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_sort, value, last_id = json_util.loads(text, json_options=_JSON)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, BSONError):
        raise BadQuery(f"not a cursor of {view.key}: start again from the first page") from None
    # Only plain values: an operator smuggled in a cursor ({"$ne": ...}) is not a position.
    if cursor_sort != sort or not isinstance(last_id, ObjectId) or not isinstance(value, _SCALARS):
        raise BadQuery(f"not a cursor of {view.key} sorted by {sort!r}: start again")
    beyond = "$gt" if direction is SortDirection.ASCENDING else "$lt"
    if key == "_id":
        return {"_id": {beyond: last_id}}
    return {"$or": [{key: {beyond: value}}, {key: value, "_id": {beyond: last_id}}]}
