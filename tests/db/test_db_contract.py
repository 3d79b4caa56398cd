"""Behaviour every document backend must share, exercised through Beanie 2."""

from __future__ import annotations

from datetime import UTC, datetime

import pymongo.errors
import pytest
from beanie import UpdateResponse
from beanie.odm.bulk import BulkWriter
from beanie.operators import Inc, Push, Set
from dbtest_models import Account, Note, Product, ProductSummary

from kernel.db import DocumentClient, ping

pytestmark = pytest.mark.usefixtures("models")


def _product(sku: str, price: float, category: str = "tools", **extra: object) -> Product:
    return Product(sku=sku, name=f"name-{sku}", category=category, price=price, **extra)


async def _seed() -> list[Product]:
    products = [
        _product("a", 5.0, qty=1),
        _product("b", 15.0, qty=2),
        _product("c", 25.0, "garden", qty=3),
        _product("d", 35.0, "garden", qty=4),
        _product("e", 45.0, "kitchen", qty=5),
    ]
    await Product.insert_many(products[:2])  # insert_many does not set ids on the models
    for product in products[2:]:
        await product.insert()
    return products


async def test_init_creates_declared_indexes(client: DocumentClient, db_name: str) -> None:
    info = await client[db_name]["products"].index_information()
    assert info["sku_1"]["unique"] is True
    assert [tuple(pair) for pair in info["category_price"]["key"]] == [
        ("category", 1),
        ("price", -1),
    ]
    accounts = await client[db_name]["accounts"].index_information()
    assert accounts["email_key_1"]["unique"] is True


async def test_init_is_repeatable(client: DocumentClient, db_name: str) -> None:
    from kernel.db import init_models

    await init_models(client, db_name, [Product, Account, Note])  # start-up runs every time
    assert "sku_1" in await client[db_name]["products"].index_information()


async def test_insert_get_and_find(client: DocumentClient, db_name: str) -> None:
    products = await _seed()
    fetched = await Product.get(products[2].id)
    assert fetched is not None
    assert fetched.sku == "c"
    assert fetched.created.tzinfo is not None

    page = await Product.find(Product.price > 10).sort(-Product.price).skip(1).limit(2).to_list()
    assert [p.sku for p in page] == ["d", "c"]

    summaries = await Product.find({"category": "garden"}).project(ProductSummary).to_list()
    assert sorted((s.name, s.price) for s in summaries) == [("name-c", 25.0), ("name-d", 35.0)]

    one = await Product.find_one(Product.sku == "e")
    assert one is not None
    assert one.category == "kitchen"
    assert await Product.find_one(Product.sku == "missing") is None
    assert [p.sku async for p in Product.find(Product.qty >= 4).sort("+sku")] == ["d", "e"]


async def test_count(client: DocumentClient, db_name: str) -> None:
    await _seed()
    assert await Product.count() == 5
    assert await Product.find(Product.category == "garden").count() == 2
    assert await Product.find_all().limit(3).count() == 3
    assert await client[db_name]["products"].estimated_document_count() == 5


async def test_datetimes_round_trip_as_aware_utc(client: DocumentClient, db_name: str) -> None:
    moment = datetime(2024, 5, 17, 12, 30, 45, 123000, tzinfo=UTC)
    await _product("t", 1.0, created=moment).insert()
    stored = await Product.find_one(Product.sku == "t")
    assert stored is not None
    assert stored.created == moment


async def test_update_operators(client: DocumentClient, db_name: str) -> None:
    await _seed()
    await Product.find(Product.sku == "a").update(Set({Product.name: "anvil"}))
    await Product.find(Product.category == "garden").update(Inc({Product.qty: 10}))
    await Product.find_one(Product.sku == "b").update(Push({Product.tags: "sale"}))
    await Product.find_one(Product.sku == "b").update({"$push": {"tags": "new"}})

    a, b = await Product.find_one(Product.sku == "a"), await Product.find_one(Product.sku == "b")
    assert a is not None
    assert b is not None
    assert a.name == "anvil"
    assert b.tags == ["sale", "new"]
    garden = await Product.find(Product.category == "garden").sort("+sku").to_list()
    assert [p.qty for p in garden] == [13, 14]


async def test_save_replace_and_return_new_document(client: DocumentClient, db_name: str) -> None:
    product = _product("s", 9.0)
    await product.save()
    product.price = 11.0
    await product.save()
    await product.replace()
    updated = await Product.find_one(Product.sku == "s").update(
        Inc({Product.qty: 2}), response_type=UpdateResponse.NEW_DOCUMENT
    )
    assert isinstance(updated, Product)
    assert updated.qty == 2
    assert updated.price == 11.0

    await Product.find_one(Product.sku == "u").upsert(
        Set({Product.price: 1.0}), on_insert=_product("u", 2.0)
    )
    inserted = await Product.find_one(Product.sku == "u")
    assert inserted is not None
    assert inserted.price == 2.0


async def test_delete(client: DocumentClient, db_name: str) -> None:
    products = await _seed()
    await products[4].delete()
    assert await Product.get(products[4].id) is None
    result = await Product.find(Product.category == "garden").delete()
    assert result is not None
    assert result.deleted_count == 2
    assert await Product.count() == 2


async def test_bulk_writer(client: DocumentClient, db_name: str) -> None:
    async with BulkWriter() as bulk:
        for i in range(3):
            await Product.insert_one(_product(f"bulk{i}", float(i)), bulk_writer=bulk)
    assert await Product.find({"sku": {"$regex": "^bulk"}}).count() == 3


async def test_aggregate_pipeline(client: DocumentClient, db_name: str) -> None:
    await _seed()
    rows = await Product.aggregate(
        [
            {"$match": {"price": {"$gte": 10}}},
            {"$group": {"_id": "$category", "total": {"$sum": "$qty"}, "n": {"$sum": 1}}},
            {"$sort": {"total": -1}},
        ]
    ).to_list()
    assert rows == [
        {"_id": "garden", "total": 7, "n": 2},
        {"_id": "kitchen", "total": 5, "n": 1},
        {"_id": "tools", "total": 2, "n": 1},
    ]
    assert await Product.find(Product.category == "garden").sum(Product.qty) == 7


async def test_unique_index_raises_pymongo_duplicate_key(
    client: DocumentClient, db_name: str
) -> None:
    await _product("dup", 1.0).insert()
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        await _product("dup", 2.0).insert()
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        await client[db_name]["products"].insert_one({"sku": "dup"})
    assert await Product.find(Product.sku == "dup").count() == 1


async def test_normalised_email_is_unique_case_insensitively(
    client: DocumentClient, db_name: str
) -> None:
    await Account(email="Alice@Example.com").insert()
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        await Account(email="  alice@EXAMPLE.com").insert()
    found = await Account.find_one(Account.email_key == "ALICE@example.com".lower())
    assert found is not None
    assert found.email == "Alice@Example.com"  # what the user typed is kept for display


async def test_inherited_base_document(client: DocumentClient, db_name: str) -> None:
    await Note(text="hi").insert()
    note = await Note.find_one(Note.text == "hi")
    assert note is not None
    assert note.created.tzinfo is not None


async def test_raw_collection_shapes(client: DocumentClient, db_name: str) -> None:
    collection = client[db_name]["raw"]
    await collection.insert_many([{"n": i} for i in range(5)])
    cursor = collection.find({}, {"_id": 0}).sort("n", -1).skip(1).limit(3)  # not awaited
    assert await cursor.to_list(2) == [{"n": 3}, {"n": 2}]
    assert await cursor.to_list() == [{"n": 1}]
    agg = await collection.aggregate([{"$group": {"_id": None, "s": {"$sum": "$n"}}}])
    assert [row["s"] async for row in agg] == [10]
    assert await collection.distinct("n", {"n": {"$lt": 2}}) == [0, 1]
    names = [ix["name"] async for ix in await collection.list_indexes()]
    assert names == ["_id_"]
    assert "raw" in await client[db_name].list_collection_names()
    await collection.drop()
    assert "raw" not in await client[db_name].list_collection_names()


async def test_ping(client: DocumentClient, db_name: str) -> None:
    assert await ping(client) is True
