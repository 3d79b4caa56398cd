"""``compare`` and ``mismatches`` over catalogs whose schemas pydantic wrote."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from kernel.asyncapi import (
    Change,
    Channel,
    Consumer,
    Producer,
    ServiceMethod,
    SystemContracts,
    compare,
    mismatches,
)

SUBJECT = "greeter.greeted"


def schema(model: Any) -> dict[str, Any]:
    return TypeAdapter(model).json_schema()


class Greeted(BaseModel):
    name: str
    greeting: str


class GreetedNoName(BaseModel):
    greeting: str


class GreetedMore(BaseModel):
    name: str
    greeting: str
    lang: str = "en"


class GreetedNeedsLang(BaseModel):
    name: str
    greeting: str
    lang: str


class NameOnly(BaseModel):
    name: str


def catalog(
    produced: Any | None = Greeted,
    consumed: Any | None = NameOnly,
    *,
    subject: str = SUBJECT,
    pattern: str | None = None,
) -> SystemContracts:
    producers = () if produced is None else (Producer("greeter", schema(produced)),)
    consumers = (
        ()
        if consumed is None
        else (
            Consumer(
                "audit", "modules.audit.events.on_greeted", pattern or subject, schema(consumed)
            ),
        )
    )
    return SystemContracts(
        channels={subject: Channel(subject, producers, consumers)},
        modules={"greeter": "1.0.0", "audit": "1.0.0"},
    )


def breaking(changes: list[Change]) -> list[str]:
    return [str(c) for c in changes if c.kind == "breaking"]


def safe(changes: list[Change]) -> list[str]:
    return [str(c) for c in changes if c.kind == "safe"]


def test_the_same_catalog_has_no_changes() -> None:
    assert compare(catalog(), catalog()) == []


def test_dropping_a_field_a_consumer_requires_breaks_naming_field_and_both_modules() -> None:
    changes = compare(catalog(), catalog(GreetedNoName))
    assert breaking(changes) == [
        "breaking: greeter.greeted: removed required field 'name' [greeter, audit]",
        "breaking: greeter.greeted: audit's handler modules.audit.events.on_greeted no longer "
        "accepts what greeter declares: field 'name' is required, and the producer does not "
        "send it [greeter, audit]",
    ]
    assert mismatches(catalog(GreetedNoName)) == [
        "greeter.greeted: audit's handler modules.audit.events.on_greeted does not accept what "
        "greeter declares: field 'name' is required, and the producer does not send it"
    ]


def test_a_new_optional_field_is_safe_a_new_required_one_breaks() -> None:
    assert compare(catalog(), catalog(GreetedMore)) == [
        Change("safe", SUBJECT, "new optional field 'lang'", ("greeter", "audit"))
    ]
    assert breaking(compare(catalog(), catalog(GreetedNeedsLang))) == [
        "breaking: greeter.greeted: new required field 'lang' without a default [greeter, audit]"
    ]


def test_types_retyped_or_narrowed_break_widened_ones_are_safe() -> None:
    class Count(BaseModel):
        n: int

    class CountFloat(BaseModel):
        n: float

    class CountText(BaseModel):
        n: str

    def counted(model: Any) -> SystemContracts:
        return catalog(model, None, subject="shop.counted")

    assert safe(compare(counted(Count), counted(CountFloat))) == [
        "safe: shop.counted: field 'n' widened from integer to number [greeter]"
    ]
    assert breaking(compare(counted(CountFloat), counted(Count))) == [
        "breaking: shop.counted: field 'n' narrowed: the payload may be number, expected integer "
        "[greeter]"
    ]
    assert breaking(compare(counted(Count), counted(CountText))) == [
        "breaking: shop.counted: field 'n' retyped from integer to string [greeter]"
    ]


def test_a_widened_type_a_typed_consumer_refuses_still_breaks() -> None:
    class Count(BaseModel):
        n: int

    class CountFloat(BaseModel):
        n: float

    changes = compare(catalog(Count, Count), catalog(CountFloat, Count))
    assert [c.kind for c in changes] == ["breaking", "safe"]
    assert "no longer accepts what greeter declares: field 'n' may be number" in changes[0].message


def test_a_field_no_longer_required_breaks() -> None:
    class MaybeName(BaseModel):
        name: str | None = None
        greeting: str

    changes = breaking(compare(catalog(Greeted, None), catalog(MaybeName, None)))
    assert changes == ["breaking: greeter.greeted: field 'name' is no longer required [greeter]"]


def test_a_removed_subject_breaks_while_consumed_and_is_safe_once_nobody_listens() -> None:
    gone = SystemContracts(modules={"audit": "1.0.0"})
    assert compare(catalog(), gone) == [Change("safe", SUBJECT, "removed", ("greeter", "audit"))]
    consumed_still = catalog(None, NameOnly)
    assert breaking(compare(catalog(), consumed_still)) == [
        "breaking: greeter.greeted: no module emits it any more (greeter did) [audit]"
    ]
    wildcard = catalog(None, NameOnly, subject="greeter.other", pattern="greeter.>")
    assert safe(compare(catalog(), wildcard)) == [
        "safe: greeter.greeted: removed (greeter.> still listen) [greeter, audit]",
        "safe: greeter.other: new subject [audit]",
    ]


def test_new_subjects_and_consumers_are_safe_a_new_consumer_that_refuses_breaks() -> None:
    assert compare(catalog(consumed=None), catalog()) == [
        Change("safe", SUBJECT, "new consumer modules.audit.events.on_greeted", ("audit",))
    ]

    class WantsAge(BaseModel):
        age: int

    assert breaking(compare(catalog(consumed=None), catalog(consumed=WantsAge))) == [
        "breaking: greeter.greeted: audit's handler modules.audit.events.on_greeted does not "
        "accept what greeter declares: field 'age' is required, and the producer does not send "
        "it [greeter, audit]"
    ]
    assert compare(SystemContracts(), catalog())[0].kind == "safe"


def test_a_refusal_known_before_is_not_a_change() -> None:
    assert compare(catalog(GreetedNoName), catalog(GreetedNoName)) == []


def test_service_methods_removed_or_narrowed_break() -> None:
    def method(args: Any, result: Any = str) -> ServiceMethod:
        return ServiceMethod("billing", "charge", "billing", schema(args), schema(result))

    class Args(BaseModel):
        amount: int

    class StrictArgs(BaseModel):
        amount: int
        currency: str

    def with_(*methods: ServiceMethod) -> SystemContracts:
        return SystemContracts(services=list(methods))

    assert breaking(compare(with_(method(Args)), with_())) == [
        "breaking: billing.charge: service method removed [billing]"
    ]
    assert breaking(compare(with_(method(Args)), with_(method(StrictArgs)))) == [
        "breaking: billing.charge: arguments narrowed: field 'currency' is required, and the "
        "producer does not send it [billing]"
    ]
    assert compare(with_(method(StrictArgs)), with_(method(Args))) == []
    assert safe(compare(with_(), with_(method(Args)))) == [
        "safe: billing.charge: new service method [billing]"
    ]
