"""The gateway over real HTTP: probes, system views, OpenAPI, one error shape, CORS."""

from pathlib import Path

import pytest

from kernel.testing import KernelHarness, write_module

ROUTER = """
from litestar import get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel
from kernel.auth import PUBLIC

class Order(BaseModel):
    quantity: int

@get("/items/{item_id:int}", sync_to_thread=False, opt=PUBLIC)
def item(item_id: FromPath[int]) -> dict:
    return {"id": item_id}

@post("/orders", sync_to_thread=False, opt=PUBLIC)
def order(data: JSONBody[Order]) -> dict:
    return {"quantity": data.quantity}

@get("/crash", sync_to_thread=False, opt=PUBLIC)
def crash() -> dict:
    raise RuntimeError("secret internal detail")

@get("/denied", sync_to_thread=False, opt=PUBLIC)
def denied() -> dict:
    raise NotAuthorizedException("token expired")

@get("/gone", sync_to_thread=False, opt=PUBLIC)
def gone() -> dict:
    from kernel.storage import NotFound
    raise NotFound("no object at fs://local/a.txt", urn="fs://local/a.txt")

@get("/busy", sync_to_thread=False, opt=PUBLIC)
def busy() -> dict:
    from kernel.registry import ServiceUnavailable
    raise ServiceUnavailable("no instance of service 'billing' is running")

@post("/anything", sync_to_thread=False, opt=PUBLIC)
def anything(data: JSONBody[object]) -> dict:
    return {"ok": True}

@get("/runaway", sync_to_thread=False, opt=PUBLIC)
def runaway() -> dict:
    def down(n: int) -> int:
        return down(n + 1)
    return {"n": down(0)}

@get("/broken-setting", sync_to_thread=False, opt=PUBLIC)
def broken_setting() -> dict:
    from kernel.errors import ConfigError
    raise ConfigError("WEBOS_SECRET_VALUE is wrong: do not show it")
"""


async def _shop(webos: KernelHarness, tmp_path: Path, **overrides):
    write_module(tmp_path, "shop", {"router.py": ROUTER}, manifest='name="shop"\nversion="1.4.0"\n')
    return await webos.start(modules_path=tmp_path, **overrides)


async def test_health_and_ready(webos: KernelHarness, tmp_path: Path) -> None:
    app = await _shop(webos, tmp_path)
    assert (await app.client.get("/health")).json() == {"status": "ok"}
    ready = await app.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_ready_is_503_with_reason_while_a_dependency_is_missing(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "billing", {})
    write_module(tmp_path, "shop", {}, manifest='name="shop"\ndepends=["billing"]\n')
    app = await webos.start(modules_path=tmp_path, exclude=["billing"])

    ready = await app.client.get("/ready")

    assert ready.status_code == 503
    assert "billing" in ready.json()["detail"]


async def test_module_routes_are_mounted_under_api_name(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _shop(webos, tmp_path)
    assert (await app.client.get("/api/shop/items/3")).json() == {"id": 3}


async def test_system_modules_lists_each_module(webos: KernelHarness, tmp_path: Path) -> None:
    app = await _shop(webos, tmp_path)
    anonymous = await app.client.get("/api/system/modules")
    [shop] = (await app.client.get("/api/system/modules", headers=app.auth_headers())).json()
    assert anonymous.status_code == 401
    assert shop["name"] == "shop"
    assert shop["version"] == "1.4.0"
    assert shop["files"] == ["router"]
    assert shop["state"] == "started"
    assert shop["depends"] == []


async def test_openapi_includes_module_routes(webos: KernelHarness, tmp_path: Path) -> None:
    app = await _shop(webos, tmp_path)
    schema = (await app.client.get("/schema/openapi.json")).json()
    assert "/api/shop/items/{item_id}" in schema["paths"]
    assert "/api/system/modules" in schema["paths"]


async def test_errors_share_one_problem_shape(webos: KernelHarness, tmp_path: Path) -> None:
    app = await _shop(webos, tmp_path)
    missing = await app.client.get("/api/shop/nothing-here")
    invalid = await app.client.post("/api/shop/orders", json={"quantity": "many"})
    malformed = await app.client.post(
        "/api/shop/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    denied = await app.client.get("/api/shop/denied")
    crashed = await app.client.get("/api/shop/crash")

    for response, status in (
        (missing, 404),
        (invalid, 400),
        (malformed, 400),
        (denied, 401),
        (crashed, 500),
    ):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == status
        assert body["title"] and body["detail"]
    assert "quantity" in str(invalid.json()["errors"])
    assert denied.json()["detail"] == "token expired"
    assert "secret internal detail" not in crashed.text


async def test_kernel_errors_answer_with_their_own_status_and_message(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _shop(webos, tmp_path)
    gone = await app.client.get("/api/shop/gone")
    busy = await app.client.get("/api/shop/busy")
    broken = await app.client.get("/api/shop/broken-setting")

    for response, status in ((gone, 404), (busy, 503), (broken, 500)):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == status
    assert gone.json()["detail"] == "no object at fs://local/a.txt"
    assert busy.json()["detail"] == "no instance of service 'billing' is running"
    # A 500 says only that it was logged: the message may name settings or internals.
    assert "WEBOS_SECRET_VALUE" not in broken.text


async def test_json_nested_too_deep_is_a_400_without_a_traceback(
    webos: KernelHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = await _shop(webos, tmp_path)
    for depth in (1_000, 100_000):
        caplog.clear()
        for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
            answer = await app.client.post(
                "/api/shop/anything", content=body, headers={"content-type": "application/json"}
            )
            assert answer.status_code == 400, answer.text
            assert answer.json()["detail"] == "the JSON body is nested too deeply"
        assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text
    shallow = await app.client.post("/api/shop/anything", json=[[[["fine"]]]])
    assert shallow.status_code == 201
    # A handler's own runaway recursion is still a bug: a 500, logged.
    runaway = await app.client.get("/api/shop/runaway")
    assert runaway.status_code == 500
    assert "unhandled error on GET /api/shop/runaway" in caplog.text


async def test_cors_origins_setting(webos: KernelHarness, tmp_path: Path) -> None:
    app = await _shop(webos, tmp_path, cors_origins=["https://app.example"])
    response = await app.client.options(
        "/api/shop/items/1",
        headers={"origin": "https://app.example", "access-control-request-method": "GET"},
    )
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    other = await app.client.get("/api/shop/items/1", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_events_emitted_in_a_request_carry_its_module_and_trace(
    webos: KernelHarness,
) -> None:
    app = await webos.start(["greeter"])
    events = await app.subscribe("greeter.>")
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    await app.client.post(
        "/api/greeter/hello", json={"name": "Ada"}, headers={"traceparent": traceparent}
    )

    event = await events.next()
    # Same trace; the parent is the event's publish span, a descendant of the caller's span.
    assert event.headers["traceparent"].split("-")[1] == traceparent.split("-")[1]
    assert event.headers["webos-source"] == "greeter"
