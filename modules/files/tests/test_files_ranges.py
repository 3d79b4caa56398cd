"""The Range and validator helpers on their own (the HTTP tests cover them end to end)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from files._http import Unsatisfiable, not_modified, parse_range, quoted_etag, range_applies
from kernel.storage import ObjectStat

STAT = ObjectStat("a.txt", 100, datetime(2024, 5, 1, 12, 0, 0, 500, tzinfo=UTC), "text/plain", "e1")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-99", (0, 99)),
        ("bytes=5-", (5, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-1000", (0, 99)),
        ("BYTES = 1 - 2", (1, 2)),
        ("bytes=5-4", None),  # invalid: ignored
        ("bytes=-", None),
        ("bytes=a-b", None),
        ("bytes=0-1,3-4", None),  # several ranges: whole object
        ("items=0-1", None),
        ("bytes=", None),
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


def test_validators() -> None:
    assert quoted_etag("abc") == '"abc"' and quoted_etag('"abc"') == '"abc"'
    assert quoted_etag("") is None
    assert not_modified({"if-none-match": '"x", W/"e1"'}, STAT)
    assert not not_modified({"if-none-match": '"x"'}, STAT)
    assert not_modified({"if-modified-since": "Wed, 01 May 2024 12:00:00 GMT"}, STAT)
    assert not not_modified({"if-modified-since": "Wed, 01 May 2024 11:59:59 GMT"}, STAT)
    assert not not_modified({"if-modified-since": "yesterday"}, STAT)
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3)
    assert not not_modified(
        {"if-none-match": '"x"', "if-modified-since": "Wed, 01 May 2024 12:00:00 GMT"}, STAT
    )
    assert range_applies({}, STAT) and range_applies({"if-range": '"e1"'}, STAT)
    assert not range_applies({"if-range": 'W/"e1"'}, STAT)  # If-Range needs a strong match
    assert range_applies({"if-range": "Wed, 01 May 2024 12:00:00 GMT"}, STAT)
    assert not range_applies({"if-range": "Wed, 01 May 2024 11:00:00 GMT"}, STAT)
