"""``schema_problems``: would a consumer's model refuse a payload the producer's schema allows?
Every schema here is the one pydantic writes for a real model."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kernel.asyncapi import describe, schema_problems


def schema(model: Any) -> dict[str, Any]:
    return TypeAdapter(model).json_schema()


class Greeted(BaseModel):
    name: str
    greeting: str


class NameOnly(BaseModel):
    name: str


class WantsAge(BaseModel):
    name: str
    age: int


class MaybeName(BaseModel):
    name: str | None = None
    greeting: str


def test_a_consumer_reading_fewer_fields_accepts() -> None:
    assert schema_problems(schema(Greeted), schema(NameOnly)) == []


def test_a_required_field_the_producer_lacks_is_named() -> None:
    problems = schema_problems(schema(Greeted), schema(WantsAge))
    assert problems == ["field 'age' is required, and the producer does not send it"]
    with pytest.raises(ValidationError):  # what pydantic itself does with such a payload
        WantsAge.model_validate(Greeted(name="Ada", greeting="hi").model_dump())


def test_a_required_field_the_producer_may_leave_out_or_null_is_named() -> None:
    class Optional_(BaseModel):
        name: str = "x"
        greeting: str

    assert schema_problems(schema(Optional_), schema(NameOnly)) == [
        "field 'name' is required, and the producer may leave it out"
    ]
    assert schema_problems(schema(MaybeName), schema(NameOnly)) == [
        "field 'name' is required, and the producer may leave it out",
        "field 'name' may be null, expected string",
    ]


def test_types_narrowed_by_the_consumer_are_reported_widened_ones_are_not() -> None:
    class Price(BaseModel):
        amount: float

    class IntPrice(BaseModel):
        amount: int

    assert schema_problems(schema(IntPrice), schema(Price)) == []
    assert schema_problems(schema(Price), schema(IntPrice)) == [
        "field 'amount' may be number, expected integer"
    ]


def test_optional_consumer_fields_and_unions_accept_their_members() -> None:
    class Either(BaseModel):
        value: int | str

    class OnlyInt(BaseModel):
        value: int

    class Nullable(BaseModel):
        value: int | str | None = None

    assert schema_problems(schema(OnlyInt), schema(Either)) == []
    assert schema_problems(schema(Either), schema(Nullable)) == []
    assert schema_problems(schema(Either), schema(OnlyInt)) == [
        "field 'value' may be string, expected integer"
    ]


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


def test_enums_and_literals_narrowed_are_named_with_the_values() -> None:
    class Wide(BaseModel):
        colour: Colour

    class Narrow(BaseModel):
        colour: Literal["red", "green"]

    class AnyText(BaseModel):
        colour: str

    assert schema_problems(schema(Narrow), schema(Wide)) == []
    assert schema_problems(schema(Wide), schema(Narrow)) == [
        "field 'colour' may be 'blue', expected one of 'red', 'green'"
    ]
    assert schema_problems(schema(AnyText), schema(Narrow)) == [
        "field 'colour' may be any string, expected one of 'red', 'green'"
    ]
    assert schema_problems(schema(Narrow), schema(AnyText)) == []


def test_nested_models_behind_refs_are_compared_field_by_field() -> None:
    class Address(BaseModel):
        city: str

    class StrictAddress(BaseModel):
        city: str
        zip: str

    class Order(BaseModel):
        to: Address
        lines: list[Address]

    class StrictOrder(BaseModel):
        to: StrictAddress
        lines: list[StrictAddress]

    assert "$defs" in schema(Order)  # the nested models are $refs: resolved, not skipped
    assert schema_problems(schema(StrictOrder), schema(Order)) == []
    assert schema_problems(schema(Order), schema(StrictOrder)) == [
        "field 'to.zip' is required, and the producer does not send it",
        "field 'lines[].zip' is required, and the producer does not send it",
    ]


def test_a_recursive_model_is_compared_without_looping() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = []

    class StrictNode(BaseModel):
        name: str
        size: int
        children: list[StrictNode] = []

    assert schema_problems(schema(Node), schema(Node)) == []
    assert "field 'size' is required, and the producer does not send it" in schema_problems(
        schema(Node), schema(StrictNode)
    )


def test_bounds_and_forbidden_extra_fields_narrow() -> None:
    class Loose(BaseModel):
        name: str
        note: str

    class Bounded(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(max_length=10)

    assert schema_problems(schema(Loose), schema(Bounded)) == [
        "field 'name': the consumer requires maxLength 10, the producer does not",
        "field 'note' is sent by the producer, and not accepted",
    ]


def test_no_schema_means_any_json() -> None:
    assert schema_problems(None, None) == []
    assert schema_problems(schema(Greeted), None) == []
    assert schema_problems(schema(Greeted), schema(Any)) == []
    assert schema_problems(None, schema(NameOnly)) == [
        "the payload may be any JSON (the producer sets no schema); expected object"
    ]


def test_describe_names_types_plainly() -> None:
    assert describe(schema(int | None)) == "integer | null"
    assert describe(schema(Literal["a", "b"])) == "one of 'a', 'b'"
    assert describe(None) == "any JSON"


def test_a_broken_ref_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="cannot follow \\$ref '#/\\$defs/Gone'"):
        schema_problems({"$ref": "#/$defs/Gone"}, schema(NameOnly))
