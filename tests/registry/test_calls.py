"""Services called by name with JSON arguments (``call_service``), listed from ``$SRV.INFO``
(``list_services``), and through the gateway (``POST /api/system/services/{service}/{method}``):
the same answers whether the module runs in the gateway or in a process of its own."""

import json
import time
from pathlib import Path

import pytest

from kernel.context import current_deadline
from kernel.propagation import Propagation
from kernel.registry import (
    RemoteServiceError,
    ServiceArgumentsRejected,
    ServiceUnavailable,
    call_service,
    list_services,
)
from kernel.registry import _calls as calls
from kernel.testing import KernelHarness, write_module
from tests._late import wait_longer

SERVICES = """
import asyncio
from pydantic import BaseModel
from kernel import service
from kernel.auth import current_principal
from kernel.context import time_left

class Sum(BaseModel):
    total: int

@service("calculator")
class Calculator:
    async def add(self, a: int, b: int = 0) -> Sum:
        return Sum(total=a + b)

    async def divide(self, a: int, b: int) -> float:
        return a / b

    async def caller(self) -> str:
        principal = current_principal.get()
        return f"{principal.kind}:{principal.id}"

    async def time_left(self) -> float | None:
        return time_left()

    async def nap(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
"""


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "maths", {"services.py": SERVICES})
    return root


@pytest.fixture(params=["in-process", "standalone"])
async def deployment(request, webos: KernelHarness, modules_path: Path):
    if request.param == "in-process":
        return await webos.start(modules_path=modules_path)
    gateway = await webos.start(modules_path=modules_path, exclude=["maths"])
    await webos.run_module("maths", modules_path=modules_path)
    return gateway


async def _call(deployment, method: str, args: dict):
    return await call_service(
        deployment.nats, "calculator", method, args, timeout=5, propagation=Propagation.default()
    )


async def test_call_by_name_validates_on_the_serving_side(deployment) -> None:
    assert await _call(deployment, "add", {"a": 2, "b": 3}) == {"total": 5}
    assert await _call(deployment, "caller", {}) == "anonymous:anonymous"

    with pytest.raises(ServiceArgumentsRejected) as refused:
        await _call(deployment, "add", {"a": "two", "c": 1})
    message = refused.value.message
    assert "a: Input should be a valid integer" in message
    assert "unexpected argument 'c'" in message
    with pytest.raises(ServiceArgumentsRejected, match="missing argument 'a'"):
        await _call(deployment, "add", {})
    with pytest.raises(RemoteServiceError) as raised:
        await _call(deployment, "divide", {"a": 1, "b": 0})
    assert raised.value.remote_type == "ZeroDivisionError"
    assert not isinstance(raised.value, ServiceArgumentsRejected)


async def test_services_list_methods_with_their_schemas(deployment) -> None:
    methods = {m.method: m for m in await list_services(deployment.nats, wait=0.5)}
    add = methods["add"]
    assert (add.service, add.module, len(add.instances)) == ("calculator", "maths", 1)
    assert add.signature() == "add(a: integer, b: integer = ...) -> Sum"
    assert add.args_schema["required"] == ["a"]
    assert add.result_schema["properties"]["total"]["type"] == "integer"
    assert methods["caller"].signature() == "caller() -> string"


async def test_gateway_calls_as_the_caller_with_services_call(deployment) -> None:
    url = "/api/system/services/calculator"
    admin = deployment.auth_headers(["admin"], subject="ada")

    called = await deployment.client.post(f"{url}/caller", json={}, headers=admin)
    refused = await deployment.client.post(
        f"{url}/caller", json={}, headers=deployment.auth_headers(["user"])
    )
    anonymous = await deployment.client.post(f"{url}/caller", json={})
    bad = await deployment.client.post(f"{url}/add", json={"a": "x"}, headers=admin)
    raised = await deployment.client.post(f"{url}/divide", json={"a": 1, "b": 0}, headers=admin)
    wildcard = await deployment.client.post(
        "/api/system/services/calculator/*", json={}, headers=admin
    )

    assert called.status_code == 200, called.text
    assert called.json() == {"result": "user:ada"}
    assert refused.status_code == 403
    assert "services.call" in refused.json()["detail"]
    assert anonymous.status_code == 401
    assert bad.status_code == 400
    assert bad.json()["remote_type"] == "ValidationError"
    assert "a: Input should be a valid integer" in bad.json()["detail"]
    assert raised.status_code == 502
    assert raised.json()["remote_type"] == "ZeroDivisionError"
    assert wildcard.status_code == 400
    assert "one subject token" in wildcard.json()["detail"]


async def test_a_call_by_name_carries_the_deadline_in_force(deployment) -> None:
    assert await _call(deployment, "time_left", {}) is None  # none in force: none sent
    token = current_deadline.set(time.monotonic() + 20)
    try:
        left = await _call(deployment, "time_left", {})
    finally:
        current_deadline.reset(token)
    # The callee works to the caller's deadline (a little less: the call took some of it).
    assert left is not None and 0 < left <= 20


async def test_a_call_the_service_cut_at_the_deadline_reads_as_one_not_answered_in_time(
    deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service's bound (the deadline sent) and this wait end together; on a busy caller the
    # service's answer ("cut at your deadline") comes first. Make it come first every time.
    wait_longer(monkeypatch, calls)
    token = current_deadline.set(time.monotonic() + 0.3)
    try:
        with pytest.raises(ServiceUnavailable, match=r"did not answer nap\(\) within"):
            await _call(deployment, "nap", {"seconds": 60})
    finally:
        current_deadline.reset(token)


async def test_the_gateway_refuses_a_method_the_service_lacks_before_sending(deployment) -> None:
    admin = deployment.auth_headers(["admin"], subject="ada")
    response = await deployment.client.post(
        "/api/system/services/calculator/nope", json={}, headers=admin
    )
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == (
        "service 'calculator' has no method 'nope'. Methods: add, caller, divide, nap, time_left"
    )


async def test_service_stats_count_each_call_served(deployment) -> None:
    # Calls reach the method without nats.micro's own handler: $SRV.STATS must count them still.
    for a in range(3):
        assert await _call(deployment, "add", {"a": a}) == {"total": a}

    reply = await deployment.nats.request("$SRV.STATS.webos-maths", b"", timeout=5)
    endpoints = {e["name"]: e for e in json.loads(reply.data)["endpoints"]}

    add = endpoints["calculator-add"]
    assert add["num_requests"] == 3
    assert add["processing_time"] > 0
    assert add["average_processing_time"] == add["processing_time"] // 3
    assert endpoints["calculator-divide"]["num_requests"] == 0
