"""Modules for the catalog's tests: a typed producer, typed and untyped consumers, a service."""

from __future__ import annotations

from pathlib import Path

from kernel.testing import write_module

SHOP_EVENTS = """
from pydantic import BaseModel

from kernel import on
from kernel.bus import event


class Item(BaseModel):
    sku: str
    quantity: int = 1


class Sold(BaseModel):
    order: str
    items: list[Item]


OrderSold = event("shop.sold", Sold, description="an order was paid")
"""

SHOP_SERVICES = """
from pydantic import BaseModel

from kernel import service


class Receipt(BaseModel):
    order: str
    total: float


@service("till", idempotent=True)
class Till:
    async def receipt(self, order: str, currency: str = "EUR") -> Receipt:
        return Receipt(order=order, total=0)
"""

LEDGER_EVENTS = """
from pydantic import BaseModel

from kernel import Event, on


class SoldSeen(BaseModel):
    order: str


@on("shop.sold", durable=True)
async def book(payload: SoldSeen) -> None:
    pass


@on("shop.*")
async def count(event: Event) -> None:
    pass


@on("ledger.tick", broadcast=True)
async def tick(event: Event) -> None:
    pass
"""


def write_shop_and_ledger(root: Path) -> None:
    """``shop`` emits ``shop.sold`` (typed) and ``shop.refunded`` (manifest only) and serves
    ``till``; ``ledger`` handles ``shop.sold`` durably with its own model, ``shop.*`` untyped."""
    write_module(
        root,
        "shop",
        {"events.py": SHOP_EVENTS, "services.py": SHOP_SERVICES},
        manifest='name = "shop"\nversion = "1.2.0"\nemits = ["shop.sold", "shop.refunded"]\n',
    )
    write_module(root, "ledger", {"events.py": LEDGER_EVENTS})
