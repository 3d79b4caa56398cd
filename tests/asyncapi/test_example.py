"""``example_payload``: an example the Catalog shows is valid for its schema, the same every time,
and uses what the schema says (formats, enums, bounds, nested models, references)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field, TypeAdapter

from kernel.asyncapi import example_payload


class Tier(Enum):
    GOLD = "gold"
    SILVER = "silver"


class Address(BaseModel):
    street: str
    zip_code: Annotated[str, Field(min_length=5, max_length=5)]


class Order(BaseModel):
    order_id: UUID
    email: EmailStr
    placed: datetime
    due: date
    tier: Tier
    kind: Literal["retail", "wholesale"]
    quantity: Annotated[int, Field(ge=3)]
    price: Annotated[float, Field(gt=0)]
    gift: bool
    note: str | None = None
    ship_to: Address
    lines: Annotated[list[Address], Field(min_length=2)]
    tags: dict[str, int]


class Node(BaseModel):
    name: str
    children: list[Node]
    parent: Node | None


def test_the_example_of_a_nested_model_validates_against_the_model() -> None:
    schema = TypeAdapter(Order).json_schema()
    example = example_payload(schema)
    order = Order.model_validate(example)  # raises, naming the field, if the example is wrong
    assert order.email == "user@example.org"
    assert order.tier is Tier.GOLD and order.kind == "retail"
    assert order.quantity == 3 and order.price > 0
    assert len(order.lines) == 2 and len(order.ship_to.zip_code) == 5
    assert example == example_payload(schema)  # deterministic


def test_formats_enums_and_references_are_honoured() -> None:
    example = example_payload(TypeAdapter(Order).json_schema())
    assert example["placed"] == "2026-01-01T12:00:00Z"
    assert example["due"] == "2026-01-01"
    assert UUID(example["order_id"]).version == 4
    assert example["ship_to"] == {"street": "string", "zip_code": "strin"}
    assert example["tags"] == {"key": 0}


def test_a_model_that_contains_itself_ends() -> None:
    example = example_payload(TypeAdapter(Node).json_schema())
    assert example == {"name": "string", "children": [], "parent": None}
    assert Node.model_validate(example).name == "string"


def test_declared_examples_and_defaults_win_and_no_schema_gives_none() -> None:
    assert example_payload({"type": "string", "examples": ["Ada"]}) == "Ada"
    assert example_payload({"type": "integer", "default": 7}) == 7
    assert example_payload(
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}]}
    ) == ["string", True]
    assert example_payload(None) is None
