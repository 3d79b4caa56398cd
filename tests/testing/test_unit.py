"""``webos_unit``: a module's unit tests without a nats-server (kernel/testing/_unit.py and the
in-memory bus, kernel/bus/_memory.py)."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kernel import registry
from kernel.testing import UnitHarness, write_module

SERVICES = """
from kernel import service


@service("journal")
class Journal:
    def __init__(self) -> None:
        self.entries: list = []
        self.attempts = 0
"""

EVENTS = """
import asyncio

from pydantic import BaseModel
from kernel import Event, on, registry


class Sold(BaseModel):
    sku: str


@on("shop.sold")
async def record(sale: Sold) -> None:
    for _ in range(5):  # finishes after the wildcard handler: handled() must wait for both
        await asyncio.sleep(0)
    registry.get("journal").entries.append(("sold", sale.sku))


@on("shop.>")
async def everything(event: Event) -> None:
    registry.get("journal").entries.append(("any", event.subject))


@on("webos.>")
async def kernel_watch(event: Event) -> None:
    registry.get("journal").entries.append(("kernel", event.subject))


@on("shop.flaky", durable=True)
async def flaky(payload: dict) -> None:
    journal = registry.get("journal")
    journal.attempts += 1
    if journal.attempts < 3:
        raise RuntimeError(f"attempt {journal.attempts} failed")
    journal.entries.append(("flaky", journal.attempts))


@on("shop.broken", durable=True)
async def broken(payload: dict) -> None:
    raise RuntimeError("always broken")
"""

ROUTER = """
from litestar import post
from litestar.params import JSONBody
from kernel import bus, registry
from kernel.auth import PUBLIC
from .tasks import build


@post("/sell", opt=PUBLIC)
async def sell(data: JSONBody[dict]) -> dict:
    await bus.emit("shop.sold", {"sku": data["sku"]})
    return {"seen_before_reply": list(registry.get("journal").entries)}


@post("/charge", opt=PUBLIC)
async def charge() -> dict:
    return {"receipt": await registry.get("billing").charge(5)}


@post("/report")
async def report(data: JSONBody[dict]) -> dict:
    sent = await build.kiq(data["pages"])
    return {"task_id": sent.task_id, "ran_before_reply": registry.get("journal").entries}


@post("/elsewhere", opt=PUBLIC)
async def elsewhere() -> dict:
    from billing.tasks import invoice

    await invoice.kiq()
    return {}
"""

TASKS = """
from kernel import registry
from kernel.auth import current_principal
from kernel.context import current_correlation_id
from kernel.tasks import progress, task, task_info


@task(retries=2)
async def build(pages: int) -> dict:
    info = task_info()
    journal = registry.get("journal")
    journal.entries.append(("build", info.attempt, current_principal.get().id))
    if info.attempt < 2:
        raise RuntimeError("the printer jammed")
    await progress(0.5, "half way")
    return {"pages": pages * 2, "correlation": current_correlation_id.get()}


@task(retries=1)
async def doomed() -> None:
    raise ValueError("never works")
"""

BILLING_TASKS = """
from kernel.tasks import task


@task()
async def invoice() -> None: ...
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    modules = tmp_path / "modules"
    write_module(
        modules,
        "shop",
        {"services.py": SERVICES, "events.py": EVENTS, "router.py": ROUTER, "tasks.py": TASKS},
        manifest='name = "shop"\nemits = ["shop.>", "webos.custom"]\n',
    )
    write_module(modules, "billing", {"tasks.py": BILLING_TASKS}, manifest='name = "billing"\n')
    return modules


async def test_an_emit_reaches_matching_handlers_after_the_emitter_continues(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop)
    response = await app.client.post("/api/shop/sell", json={"sku": "lamp"})

    assert response.status_code == 201, response.text
    assert response.json() == {"seen_before_reply": []}  # scheduled, as over NATS
    [event] = app.captured_events("shop.sold")
    assert (event.json(), event.source) == ({"sku": "lamp"}, "shop")
    assert event.headers["webos-event-id"] == event.id
    await app.handled("shop.sold")
    entries = registry.get("journal").entries
    assert sorted(entries) == [("any", "shop.sold"), ("sold", "lamp")]  # each handler once


async def test_wildcard_handlers_skip_internal_subjects(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop)
    await app.kernel.bus.emit("webos.tasks.anything", {})
    await app.kernel.bus.emit("webos.custom", {})
    await app.handled("webos.custom")
    assert registry.get("journal").entries == [("kernel", "webos.custom")]


async def test_durable_handlers_are_retried_then_dead_lettered(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop, durable_max_deliver=4)
    await app.kernel.bus.emit("shop.flaky", {"n": 1})
    await app.kernel.bus.emit("shop.broken", {"n": 2})
    await app.handled("shop.flaky")
    await app.handled("shop.broken")

    assert ("flaky", 3) in registry.get("journal").entries  # third delivery succeeded
    [letter] = app.dead_letters
    assert (letter.subject, letter.deliveries, letter.json()) == ("shop.broken", 4, {"n": 2})
    assert letter.handler.endswith("broken") and "always broken" in letter.error


async def test_a_stubbed_service_answers_for_a_module_not_started(
    webos_unit: UnitHarness, shop: Path
) -> None:
    class FakeBilling:
        async def charge(self, amount: int) -> str:
            return f"paid {amount}"

    app = await webos_unit.start(["shop"], modules_path=shop, stubs={"billing": FakeBilling()})
    response = await app.client.post("/api/shop/charge")
    assert response.json() == {"receipt": "paid 5"}
    with pytest.raises(ValueError, match="runs in this kernel"):
        app.stub_service("journal", object())


async def test_a_task_queued_by_a_route_runs_in_memory_as_its_caller(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop)
    headers = app.auth_headers(["admin"], subject="ada")
    response = await app.client.post("/api/shop/report", json={"pages": 3}, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["ran_before_reply"] == []  # queued, as over JetStream
    [status] = await app.finished("shop.build")
    assert status.id == response.json()["task_id"]
    assert (status.state.value, status.attempts, status.principal) == ("succeeded", 2, "ada")
    # The task's own correlation id is the one its sender's labels carried, on every attempt.
    assert status.result == {"pages": 6, "correlation": status.correlation_id}
    assert status.correlation_id
    assert registry.get("journal").entries == [("build", 1, "ada"), ("build", 2, "ada")]
    shown = await app.client.get(f"/api/system/tasks/{status.id}", headers=headers)
    assert (shown.status_code, shown.json()["result"]) == (200, status.result)


async def test_kiq_returns_a_handle_whose_result_can_be_awaited(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop)
    tasks = importlib.import_module("shop.tasks")
    with pytest.raises(TypeError, match=r"cannot send task 'shop\.build'"):
        await tasks.build.kiq(object())  # as over the wire: what is not JSON cannot be sent
    good = await tasks.build.kiq(4)
    bad = await tasks.doomed.kiq()

    result = await good.wait_result(timeout=5)
    assert (result.is_err, result.return_value["pages"]) == (False, 8)
    failure = await bad.wait_result(timeout=5)
    assert failure.is_err and "never works" in str(failure.error)
    [status] = await app.finished(tasks.doomed)
    assert (status.state.value, status.attempts) == ("failed", 2)
    assert status.error == "ValueError: never works"


async def test_a_task_of_a_module_not_started_is_refused_clearly(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop)
    response = await app.client.post("/api/shop/elsewhere")
    assert response.status_code == 503
    assert "'billing' is not started in this unit kernel" in response.json()["detail"]


async def test_waiting_for_an_event_nobody_handles_fails_at_once_with_the_handlers(
    webos_unit: UnitHarness, shop: Path
) -> None:
    app = await webos_unit.start(["shop"], modules_path=shop)
    with pytest.raises(AssertionError, match=r"no handler of this kernel takes 'billing\.paid'"):
        await app.handled("billing.paid")


def test_a_new_modules_generated_test_passes_without_a_nats_server(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "mine"\n')
    webos = str(Path(sys.executable).parent / "webos")
    made = subprocess.run(
        [webos, "new", "module", "shop"], cwd=project, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    basetemp = tmp_path / "basetemp"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(basetemp),
            "modules/shop",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    # The nats_server fixture makes its folder (basetemp/nats0) before starting the server.
    assert not list(basetemp.glob("nats*")), "the generated test started a nats-server"


FAILING_HOOKS = """
from kernel import ModuleContext, hookimpl


@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    raise RuntimeError("cannot start")
"""


@pytest.mark.parametrize("failure", ["stub of a started module", "startup hook"])
async def test_a_start_that_fails_leaves_the_next_kernel_a_fresh_bus_and_registry(
    webos_unit: UnitHarness, shop: Path, failure: str
) -> None:
    if failure == "startup hook":
        write_module(shop, "broken", {"hooks.py": FAILING_HOOKS}, manifest='name = "broken"\n')
        with pytest.raises(Exception, match="cannot start"):
            await webos_unit.start(["shop", "broken"], modules_path=shop)
    else:
        with pytest.raises(ValueError, match="runs in this kernel"):
            await webos_unit.start(["shop"], modules_path=shop, stubs={"journal": object()})

    app = await webos_unit.start(["shop"], modules_path=shop)
    await app.kernel.bus.emit("shop.sold", {"sku": "lamp"})
    await app.handled("shop.sold")
    assert sorted(registry.get("journal").entries) == [("any", "shop.sold"), ("sold", "lamp")]
    assert len(app.captured_events()) == 1


TWO_TESTS = """
import pytest
from kernel import registry

pytestmark = pytest.mark.asyncio


async def test_fails_mid_way(webos_unit):
    app = await webos_unit.start(["shop"])
    await app.kernel.bus.emit("shop.sold", {"sku": "lamp"})
    registry.get("journal").entries.append("left behind")
    assert False, "failing with an event in flight"


async def test_after_it(webos_unit):
    app = await webos_unit.start(["shop"])
    assert app.captured_events() == []
    assert registry.get("journal").entries == []
"""


def test_each_test_gets_a_fresh_kernel_after_one_failed_mid_way(tmp_path: Path, shop: Path) -> None:
    (tmp_path / "test_two.py").write_text(TWO_TESTS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_two.py"],
        cwd=tmp_path,
        env={**os.environ, "WEBOS_MODULES_PATH": str(shop)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "failing with an event in flight" in run.stdout
