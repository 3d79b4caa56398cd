"""A call's bytes (``kernel/registry/_codec.py``): what a caller sends and a server reads, whoever
wrote the JSON; the processes are in tests/registry/test_calls.py and tests/distribution."""

import json
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from kernel.registry._arguments import InvalidServiceArguments, read_arguments
from kernel.registry._contracts import method_contracts


class Order(BaseModel):
    id: int
    lines: list[str]


class Shop:
    async def place(self, order: Order, note: str = "", when: date | None = None) -> Order:
        return order

    async def count(self) -> int:
        return 3


CONTRACTS = method_contracts(Shop, strict=True)
PLACE = CONTRACTS["place"]


def test_what_a_caller_sends_the_server_reads_as_the_typed_arguments() -> None:
    order = Order(id=7, lines=["tea"])
    for args, kwargs in [
        ((order,), {}),
        ((), {"order": order}),
        ((order, "gift"), {"when": date(2026, 1, 2)}),
        (({"id": "7", "lines": ["tea"]},), {}),  # validated (and coerced) before it is sent
    ]:
        body = PLACE.codec.encode_args(args, kwargs)
        arguments = read_arguments(PLACE, body)
        assert arguments["order"] == order
        assert json.loads(body)["args"]["order"] == {"id": 7, "lines": ["tea"]}
    assert read_arguments(CONTRACTS["count"], CONTRACTS["count"].codec.encode_args((), {})) == {}


def test_a_caller_is_refused_before_sending_what_does_not_fit() -> None:
    with pytest.raises(ValidationError):
        PLACE.codec.encode_args(({"id": "seven", "lines": []},), {})
    with pytest.raises(TypeError):
        PLACE.codec.encode_args((), {"nothing": 1})


def test_a_body_written_by_another_client_reads_the_same() -> None:
    # json.dumps puts spaces in; a shell or another language may order keys differently.
    body = json.dumps({"args": {"note": "x", "order": {"lines": ["a"], "id": 1}}}).encode()
    assert read_arguments(PLACE, body) == {"note": "x", "order": Order(id=1, lines=["a"])}


def test_a_bad_body_names_every_problem_whichever_way_it_came() -> None:
    body = json.dumps({"args": {"order": {"id": "x", "lines": []}, "extra": 1}}).encode()
    with pytest.raises(InvalidServiceArguments) as refused:
        read_arguments(PLACE, body)
    assert "order.id: Input should be a valid integer" in str(refused.value)
    assert "unexpected argument 'extra'" in str(refused.value)
    with pytest.raises(InvalidServiceArguments, match="missing argument 'order'"):
        read_arguments(PLACE, b'{"args":{}}')
    # Well-formed but for one argument the method does not take: refused, not dropped.
    with pytest.raises(InvalidServiceArguments, match="unexpected argument 'coupon'"):
        read_arguments(PLACE, b'{"args":{"order":{"id":1,"lines":[]},"coupon":"FREE"}}')


def test_an_answer_reads_as_the_result_or_as_the_error_it_carries() -> None:
    codec = PLACE.codec
    order = Order(id=1, lines=["a"])
    assert codec.decode_result(codec.encode_result(order)) == (order, None)
    # Answers written by another server, with spaces or more keys, read the same.
    spaced = json.dumps({"result": {"id": 1, "lines": ["a"]}}).encode()
    assert codec.decode_result(spaced) == (order, None)
    more = json.dumps({"result": {"id": 1, "lines": ["a"]}, "meta": 1}).encode()
    assert codec.decode_result(more) == (None, {"result": {"id": 1, "lines": ["a"]}, "meta": 1})
    error = json.dumps({"error": {"type": "KeyError", "message": "x"}}).encode()
    assert codec.decode_result(error) == (None, {"error": {"type": "KeyError", "message": "x"}})
    # A result that does not fit the return type is left for the caller to report.
    assert codec.decode_result(b'{"result":{"id":"x"}}') == (None, {"result": {"id": "x"}})
