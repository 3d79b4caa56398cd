"""One module, many processes: the same code in-process and as `webos module run`."""

import asyncio
import json
import signal
from pathlib import Path

import nats
import pytest

from kernel.registry import RemoteServiceError, ServiceUnavailable
from kernel.testing import KernelHarness, write_module

WORKER_EVENTS = """
import os
from kernel import bus, on

@on("work.item")
async def work(payload: dict) -> None:
    await bus.emit("work.done", {"id": payload["id"], "pid": os.getpid()})
"""

WORKER_ROUTER = """
import os
from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody
from kernel import ThisModule
from kernel.auth import PUBLIC, CurrentPrincipal, requires

@get("/whoami", sync_to_thread=False, opt=PUBLIC)
def whoami() -> dict:
    return {"pid": os.getpid()}

@post("/echo", opt=PUBLIC)
async def echo(data: JSONBody[dict], module: ThisModule) -> dict:
    await module.emit("work.echoed", data)
    return {"echo": data, "module": module.name}

@get("/me", guards=[requires("worker.read")], sync_to_thread=False)
def me(principal: CurrentPrincipal) -> dict:
    return {"id": principal.id, "roles": sorted(principal.roles)}

@get("/missing", sync_to_thread=False, opt=PUBLIC)
def missing() -> dict:
    raise NotFoundException("nothing here")
"""

WORKER_SERVICES = """
from pydantic import BaseModel
from kernel import service

class Sum(BaseModel):
    total: int

@service("calculator")
class Calculator:
    async def add(self, a: int, b: int) -> Sum:
        return Sum(total=a + b)

    async def divide(self, a: int, b: int) -> float:
        return a / b

    async def caller(self) -> str:
        from kernel.auth import current_principal

        return current_principal.get().id
"""


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(
        root,
        "worker",
        {"events.py": WORKER_EVENTS, "router.py": WORKER_ROUTER, "services.py": WORKER_SERVICES},
        manifest='name = "worker"\nversion = "1.0.0"\nemits = ["work.done", "work.echoed"]\n',
    )
    return root


@pytest.fixture(params=["in-process", "standalone"])
async def deployment(request, webos: KernelHarness, modules_path: Path):
    if request.param == "in-process":
        return await webos.start(modules_path=modules_path)
    gateway = await webos.start(modules_path=modules_path, exclude=["worker"])
    await webos.run_module("worker", modules_path=modules_path)
    return gateway


async def test_same_http_behaviour(deployment) -> None:
    events = await deployment.subscribe("work.echoed")

    response = await deployment.client.post("/api/worker/echo", json={"x": 1})
    missing = await deployment.client.get("/api/worker/missing")

    assert response.status_code == 201, response.text
    assert response.json() == {"echo": {"x": 1}, "module": "worker"}
    event = await events.next()
    assert event.json() == {"x": 1}
    assert event.headers["webos-source"] == "worker"
    assert missing.status_code == 404
    assert missing.json()["detail"] == "nothing here"


async def test_guarded_route_sees_the_callers_identity(deployment) -> None:
    headers = deployment.auth_headers(["admin"], subject="ada")

    allowed = await deployment.client.get("/api/worker/me", headers=headers)
    anonymous = await deployment.client.get("/api/worker/me")

    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"id": "ada", "roles": ["admin"]}
    assert anonymous.status_code == 401


async def test_same_event_behaviour(deployment) -> None:
    done = await deployment.subscribe("work.done")
    await deployment.kernel.bus.emit("work.item", {"id": 7})
    assert (await done.next()).json()["id"] == 7


async def test_same_service_behaviour(deployment) -> None:
    from kernel.auth import Principal, use_principal

    calculator = deployment.kernel.registry.get("calculator")
    assert (await calculator.add(2, 3)).total == 5
    ada = Principal(id="ada", kind="user", roles={"user"}, permissions={"profile.read"})
    with use_principal(ada):
        assert await calculator.caller() == "ada"
    assert await calculator.caller() == "anonymous"
    with pytest.raises((ZeroDivisionError, RemoteServiceError)) as caught:
        await calculator.divide(1, 0)
    if isinstance(caught.value, RemoteServiceError):
        assert caught.value.remote_type == "ZeroDivisionError"


async def test_openapi_lists_remote_module_routes(webos: KernelHarness, modules_path: Path) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["worker"])
    schema = (await gateway.client.get("/schema/openapi.json")).json()
    assert "/api/worker/echo" in schema["paths"]


async def test_replicas_share_events_each_handled_once(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["worker"])
    first = await webos.run_module("worker", modules_path=modules_path)
    second = await webos.run_module("worker", modules_path=modules_path)
    done = await gateway.subscribe("work.done")

    for i in range(40):
        await gateway.kernel.bus.emit("work.item", {"id": i})

    results = [(await done.next()).json() for _ in range(40)]
    await asyncio.sleep(0.3)
    assert done.drain() == [], "no event may be handled twice"
    assert sorted(r["id"] for r in results) == list(range(40))
    # Both replicas took a share (the queue group picks at random: all 40 to one is 2**-39).
    shares = {pid: sum(r["pid"] == pid for r in results) for pid in (first.pid, second.pid)}
    assert all(shares.values()) and sum(shares.values()) == 40, shares


async def test_no_instance_gives_503_and_service_unavailable(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["worker"])

    response = await gateway.client.get("/api/worker/whoami")

    assert response.status_code == 503
    assert "no live instance of module 'worker'" in response.json()["detail"]
    with pytest.raises(ServiceUnavailable, match="calculator"):
        await gateway.kernel.registry.get("calculator").add(1, 2)


async def test_killed_module_goes_down_and_comes_back(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["worker"])
    node_events = await gateway.subscribe("webos.node.*")
    process = await webos.run_module("worker", modules_path=modules_path)
    assert (await gateway.client.get("/api/worker/whoami")).json()["pid"] == process.pid

    process.kill()

    down = await _next_with_subject(node_events, "webos.node.down", timeout=15)
    assert down.json()["modules"] == ["worker"]
    assert (await gateway.client.get("/api/worker/whoami")).status_code == 503
    assert (await gateway.client.get("/health")).status_code == 200
    again = await webos.run_module("worker", modules_path=modules_path)
    assert (await gateway.client.get("/api/worker/whoami")).json()["pid"] == again.pid


async def test_ready_waits_for_an_excluded_dependency(
    webos: KernelHarness, modules_path: Path
) -> None:
    write_module(modules_path, "shop", {}, manifest='name = "shop"\ndepends = ["worker"]\n')
    gateway = await webos.start(modules_path=modules_path, exclude=["worker"])
    waiting = await gateway.client.get("/ready")
    assert waiting.status_code == 503
    assert "worker" in waiting.json()["detail"]

    await webos.run_module("worker", modules_path=modules_path)

    for _ in range(50):
        if (await gateway.client.get("/ready")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert (await gateway.client.get("/ready")).status_code == 200


SLOW_HOOKS = """
import asyncio
import os
from pathlib import Path

from kernel import hookimpl


@hookimpl
async def webos_startup() -> None:
    gate = Path(os.environ["SLOW_GATE"])
    while not gate.exists():  # starting until the test opens the gate
        await asyncio.sleep(0.05)
"""


async def test_a_dependency_still_starting_elsewhere_does_not_make_ready(
    webos: KernelHarness, modules_path: Path, tmp_path: Path
) -> None:
    write_module(modules_path, "slow", {"hooks.py": SLOW_HOOKS}, manifest='name = "slow"\n')
    write_module(modules_path, "shop", {}, manifest='name = "shop"\ndepends = ["slow"]\n')
    gateway = await webos.start(modules_path=modules_path, exclude=["slow"])
    gate = tmp_path / "gate"
    module = await webos.run_module(
        "slow", modules_path=modules_path, wait=False, SLOW_GATE=str(gate)
    )
    await module.wait_visible(webos.nats_url)  # heartbeating, its module still starting
    await _gateway_sees(gateway, module.pid, state="starting")
    waiting = await gateway.client.get("/ready")
    assert waiting.status_code == 503, waiting.text
    assert "slow" in waiting.json()["detail"]

    gate.touch()
    await module.wait_visible(webos.nats_url, started=True)
    for _ in range(50):
        if (await gateway.client.get("/ready")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert (await gateway.client.get("/ready")).status_code == 200


async def test_module_services_speak_the_nats_services_protocol(
    webos: KernelHarness, modules_path: Path
) -> None:
    await webos.start(modules_path=modules_path, exclude=["worker"])
    process = await webos.run_module("worker", modules_path=modules_path)
    client = await nats.connect(webos.nats_url)
    try:
        ping = json.loads((await client.request("$SRV.PING.webos-worker", b"", timeout=5)).data)
        info = json.loads((await client.request("$SRV.INFO.webos-worker", b"", timeout=5)).data)
    finally:
        await client.close()
    assert ping["name"] == "webos-worker"
    assert ping["version"] == "1.0.0"
    assert {e["subject"] for e in info["endpoints"]} == {
        "webos.svc.calculator.add",
        "webos.svc.calculator.divide",
        "webos.svc.calculator.caller",
    }
    assert await process.stop(signal.SIGTERM) == 0


async def test_sync_service_method_refuses_to_run_standalone(
    webos: KernelHarness, tmp_path: Path
) -> None:
    root = tmp_path / "sync"
    services = (
        "from kernel import service\n\n@service('clock')\nclass Clock:\n"
        "    def now(self) -> float:\n        return 0.0\n"
    )
    write_module(root, "clock", {"services.py": services})
    process = await webos.run_module("clock", modules_path=root, wait=False)
    code = await asyncio.to_thread(process.process.wait, 30)
    assert code != 0
    assert "Clock.now must be 'async def'" in process.output()


async def _gateway_sees(gateway, pid: int, *, state: str, timeout: float = 30.0) -> None:
    """Poll the gateway's own node table until the node ``pid`` shows its modules in ``state``."""
    headers = gateway.auth_headers(["admin"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    nodes: list = []
    while loop.time() < deadline:
        nodes = (await gateway.client.get("/api/system/nodes", headers=headers)).json()
        for node in nodes:
            if node["pid"] == pid and {m["state"] for m in node["modules"]} == {state}:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway never listed node {pid} with {state} modules: {nodes}")


async def _next_with_subject(collector, subject: str, timeout: float):
    while True:
        message = await collector.next(timeout=timeout)
        if message.subject == subject:
            return message


async def test_a_module_with_websocket_routes_refuses_to_run_standalone(
    webos: KernelHarness, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    router = (
        "from litestar import WebSocket, websocket\n\n"
        "@websocket('/live')\nasync def live(socket: WebSocket) -> None:\n"
        "    await socket.accept()\n"
    )
    write_module(root, "chat", {"router.py": router})
    process = await webos.run_module("chat", modules_path=root, wait=False)
    code = await asyncio.to_thread(process.process.wait, 60)
    assert code != 0
    assert "module 'chat' cannot run standalone" in process.output()
    assert "WEBSOCKET /api/chat/live" in process.output()
