"""The data explorer's queries on every backend: cursor ranges, ties, search, list filters.

``kernel.explorer`` pages by ``$or`` of a range on the sort field and an ``_id`` tie-breaker, and
searches with a case-insensitive ``$regex``: the embedded store and MongoDB must agree on both.
"""

from __future__ import annotations

import pytest
from dbtest_models import Product

from kernel.db import DocumentClient
from kernel.explorer import Explorer
from kernel.explorer._query import ListQuery, list_page

pytestmark = pytest.mark.usefixtures("models")


async def _seed() -> None:
    # Prices tie in pairs: the cursor must go through ties by _id, never repeat nor skip.
    for index, (price, category) in enumerate(
        [(5.0, "tools"), (5.0, "Garden"), (7.5, "garden"), (7.5, "tools"), (9.0, "kitchen")]
    ):
        sku = f"s{index}"
        tags = ["sale"] if index % 2 else []
        await Product(
            sku=sku, name=f"Name {sku}", category=category, price=price, tags=tags
        ).insert()


async def _pages(query: dict[str, str]) -> list[str]:
    explorer = Explorer()
    explorer.add("shop", [Product])
    view = explorer.views["shop.product"]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        page = await list_page(view, ListQuery.from_params(params, limit=2))
        seen += [record.sku for record in page.records]  # type: ignore[attr-defined]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


async def test_cursor_pages_through_ties_in_both_directions(
    client: DocumentClient, db_name: str
) -> None:
    await _seed()
    ascending = await _pages({"sort": "price"})
    descending = await _pages({"sort": "-price"})
    by_id = await _pages({})

    assert sorted(ascending) == sorted(by_id) == [f"s{i}" for i in range(5)]
    prices = {"s0": 5.0, "s1": 5.0, "s2": 7.5, "s3": 7.5, "s4": 9.0}
    assert [prices[s] for s in ascending] == sorted(prices.values())
    assert [prices[s] for s in descending] == sorted(prices.values(), reverse=True)
    assert len(set(descending)) == 5


async def test_search_filters_and_list_elements(client: DocumentClient, db_name: str) -> None:
    await _seed()
    explorer = Explorer()
    explorer.add("shop", [Product])
    view = explorer.views["shop.product"]

    async def skus(params: dict[str, str]) -> list[str]:
        page = await list_page(view, ListQuery.from_params({"sort": "sku", **params}))
        return [record.sku for record in page.records]  # type: ignore[attr-defined]

    # sku is the indexed text field: the default search; a regex character is searched as text.
    assert await skus({"q": "S3"}) == ["s3"]
    assert await skus({"q": "."}) == []
    assert await skus({"category": "garden"}) == ["s2"]  # a filter is exact, case included
    assert await skus({"price": "7.5"}) == ["s2", "s3"]  # typed by the model: a float
    assert await skus({"tags": "sale"}) == ["s1", "s3"]  # a list field holding the value
