"""``webos new module NAME``: a module that runs, shows in the console, and a passing test."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from kernel.errors import ModuleError
from kernel.modules import ENTRY_POINT_GROUP, MANIFEST_NAME, check_module_folder

MANIFEST = """# {name}: the manifest is read before any of the module's code is imported.
name = "{name}"
version = "0.1.0"
description = "Describe what {name} does."
# Modules that must start before this one (in this process or, later, as live instances).
depends = []
# Subjects this module publishes: the contract catalog and NATS permissions are built from it.
emits = ["{name}.item_created"]
"""

ROUTER = '''from litestar import get, post
from litestar.params import JSONBody
from pydantic import BaseModel, Field

from kernel.auth import PUBLIC, requires

from .events import ItemCreated


class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@get("/ping", sync_to_thread=False, opt=PUBLIC)
def ping() -> dict[str, str]:
    """Served at GET /api/{name}/ping to anyone: routes are closed unless marked PUBLIC."""
    return {{"module": "{name}", "status": "ok"}}


@post("/items", guards=[requires("{name}.write")])
async def create_item(data: JSONBody[NewItem]) -> dict[str, str]:
    """POST /api/{name}/items for callers with {name}.write; announces the item on the bus."""
    event_id = await ItemCreated.emit(name=data.name)  # checked against ItemCreatedPayload
    return {{"name": data.name, "event_id": event_id}}
'''

EVENTS = '''from pydantic import BaseModel

from kernel import event, on, registry


class ItemCreatedPayload(BaseModel):
    name: str


# What this module emits, with its payload's model: emits are checked against it, and the
# contract catalog (/schema/asyncapi) shows it with the handlers that consume it.
ItemCreated = event("{name}.item_created", ItemCreatedPayload, description="An item was created.")


@on("{name}.item_created")
async def count_item(item: ItemCreatedPayload) -> None:
    """Each module gets each event once, however many replicas of it run."""
    registry.get("{name}_counter").add(item.name)
'''

SERVICES = '''from kernel import service


@service("{name}_counter")
class ItemCounter:
    """Registered as "{name}_counter"; other modules use registry.get("{name}_counter")."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, name: str) -> None:
        self.names.append(name)
'''

HOOKS = """from kernel import ModuleContext, hookimpl


@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    module.log.info("{name} started")
"""

UI = '''"""{name} in the console (/console): a sidebar app and a dashboard widget."""

from litestar import Response, get

from kernel import registry
from kernel.console import App, Widget, escape, fragment

app = App(name="items", title="{name}", icon="▤", route="/console", description="Items of {name}")
widget = Widget(name="count", title="{name} items", url="/console/widget", refresh=5)


@get("/console", include_in_schema=False)
async def items_page() -> Response[str]:
    """Shown in the console's content area: GET /api/{name}/console, an HTML fragment."""
    names = registry.get("{name}_counter").names
    rows = "".join(f"<li>{{escape(name)}}</li>" for name in names)
    return fragment(f"<ul>{{rows}}</ul>" if rows else '<p class="empty">No items yet.</p>')


@get("/console/widget", include_in_schema=False)
async def count_widget() -> Response[str]:
    count = len(registry.get("{name}_counter").names)
    return fragment(f"<p><strong>{{count}}</strong> item(s) created</p>")
'''

TEST = """import pytest

from kernel import registry
from kernel.testing import UnitHarness

pytestmark = pytest.mark.asyncio


# webos_unit starts the module without a nats-server: an in-memory bus, HTTP in-process.
# For integration tests (a real nats-server, real HTTP, other modules in their own processes)
# use the 'webos' fixture instead: docs/modules.md, "Testing a module".
async def test_item_is_created_announced_and_counted(webos_unit: UnitHarness) -> None:
    app = await webos_unit.start(["{name}"])

    anonymous = await app.client.post("/api/{name}/items", json={{"name": "lamp"}})
    headers = app.auth_headers(roles=["admin"])  # a test token signed by the kernel's own keys
    response = await app.client.post("/api/{name}/items", json={{"name": "lamp"}}, headers=headers)

    assert anonymous.status_code == 401
    assert response.status_code == 201, response.text
    [event] = app.captured_events("{name}.item_created")  # the anonymous call emitted nothing
    assert event.json() == {{"name": "lamp"}}
    assert event.source == "{name}"
    await app.handled("{name}.item_created")  # its handler has run
    assert registry.get("{name}_counter").names == ["lamp"]


async def test_ping_and_console_widget(webos_unit: UnitHarness) -> None:
    app = await webos_unit.start(["{name}"])

    response = await app.client.get("/api/{name}/ping")
    headers = app.auth_headers(roles=["admin"])
    widget = await app.client.get("/api/{name}/console/widget", headers=headers)

    assert response.json() == {{"module": "{name}", "status": "ok"}}
    assert widget.status_code == 200, widget.text
    assert "0</strong> item(s)" in widget.text
"""

#: The same test against a real nats-server (the ``webos`` fixture): not written by
#: ``webos new module``; ``scripts/bench.py startup`` times it beside :data:`TEST`.
INTEGRATION_TEST = """import asyncio

import pytest

from kernel import registry
from kernel.testing import KernelHarness

pytestmark = pytest.mark.asyncio


async def test_item_is_created_announced_and_counted(webos: KernelHarness) -> None:
    app = await webos.start(["{name}"])
    events = await app.subscribe("{name}.>")

    anonymous = await app.client.post("/api/{name}/items", json={{"name": "lamp"}})
    headers = app.auth_headers(roles=["admin"])
    response = await app.client.post("/api/{name}/items", json={{"name": "lamp"}}, headers=headers)

    assert anonymous.status_code == 401
    assert response.status_code == 201, response.text
    event = await events.next()
    assert event.json() == {{"name": "lamp"}}
    counter = registry.get("{name}_counter")
    for _ in range(250):
        if counter.names:
            break
        await asyncio.sleep(0.02)
    assert counter.names == ["lamp"]


async def test_ping_and_console_widget(webos: KernelHarness) -> None:
    app = await webos.start(["{name}"])

    response = await app.client.get("/api/{name}/ping")
    headers = app.auth_headers(roles=["admin"])
    widget = await app.client.get("/api/{name}/console/widget", headers=headers)

    assert response.json() == {{"module": "{name}", "status": "ok"}}
    assert widget.status_code == 200, widget.text
    assert "0</strong> item(s)" in widget.text
"""

FILES = {
    MANIFEST_NAME: MANIFEST,
    "__init__.py": '"""The {name} module."""\n',
    "router.py": ROUTER,
    "events.py": EVENTS,
    "services.py": SERVICES,
    "hooks.py": HOOKS,
    "ui.py": UI,
    "tests/__init__.py": "",
    "tests/test_{name}.py": TEST,
}


def scaffold_module(modules_path: Path, name: str) -> list[Path]:
    """Write the new module's files; refuse what the loader would refuse, and to overwrite."""
    folder = modules_path / name
    # The loader's own check: a name it refuses is never created.
    check_module_folder(folder)
    if folder.exists():
        raise ModuleError(f"{folder} already exists: choose another name", modules=(name,))
    installed = metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)
    if installed:
        package = next(iter(installed)).value
        raise ModuleError(
            f"module {name!r} is installed already ({package}): choose another name",
            modules=(name,),
        )
    written = []
    for relative, template in FILES.items():
        path = folder / relative.format(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name), encoding="utf-8")
        written.append(path)
    return written
