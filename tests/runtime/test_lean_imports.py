"""Each process loads what its role runs, and no more: memory a user sees in ``ps``.

Real ``webos module run`` and ``webos run`` processes run a module with routes, a service, an
event handler and a hook, but no ``models.py`` or ``ui.py``; the module answers a raw NATS request
with the heavy packages its process holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import textwrap
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

from kernel.testing import KernelHarness, free_port
from kernel.testing._processes import ModuleProcess, module_env
from kernel.transport import EmbeddedNats, connect_once

REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"

#: Loaded only for what a module has: Documents (models.py), the console (ui.py), S3 mounts,
#: tasks (tasks.py).
HEAVY = (
    *("jinja2", "kernel.console._shell", "beanie", "pymongo", "mongomock", "minio", "httpx"),
    *("taskiq", "aiohttp"),  # tasks.py, or a websocket NATS URL
    # Only the gateway issues or reads tokens with PyJWT (and cryptography's X.509 with it):
    # a module process checks the identities it is handed with Ed25519 alone.
    *("jwt", "cryptography.x509"),
    # FastStream's own ASGI runner, which a module process (HTTP over NATS) never runs.
    *("uvicorn", "watchfiles"),
    # Litestar's optional plugins for what no route here has: OpenTelemetry middleware (spans
    # are not recorded) and attrs classes.
    *("litestar.plugins.opentelemetry", "wrapt", "attr"),
)

PROBE = {
    "module.toml": 'name = "lean"\nversion = "0.1.0"\ndepends = []\nemits = ["lean.seen"]\n',
    "__init__.py": "",
    "router.py": """
        from litestar import get

        @get("/hello", sync_to_thread=False)
        def hello() -> dict[str, str]:
            return {"hello": "lean"}

        route_handlers = [hello]
    """,
    "services.py": """
        from kernel import service

        @service("lean")
        class Lean:
            async def ping(self) -> str:
                return "pong"
    """,
    "events.py": """
        from kernel import on

        @on("lean.seen")
        async def seen(payload: dict) -> None:
            return None
    """,
    "hooks.py": f"""
        import json
        import sys

        from kernel import ModuleContext, bus, hookimpl

        HEAVY = {HEAVY!r}

        @hookimpl
        async def webos_startup(module: ModuleContext) -> None:
            async def answer(message) -> None:
                loaded = [name for name in HEAVY if name in sys.modules]
                await message.respond(json.dumps(loaded).encode())

            await bus.nats.subscribe("lean.loaded", cb=answer)
    """,
}


#: A module with tasks.py, and a public route that queues one (run by a worker elsewhere).
SENDER = {
    "module.toml": 'name = "sender"\nversion = "0.1.0"\ndepends = []\n',
    "__init__.py": "",
    "tasks.py": """
        from kernel.tasks import task

        @task()
        async def later() -> None:
            return None
    """,
    "router.py": """
        from litestar import post

        from kernel.auth import PUBLIC
        from sender.tasks import later

        @post("/", opt=PUBLIC, status_code=202)
        async def send() -> dict[str, str]:
            return {"task_id": (await later.kiq()).task_id}

        route_handlers = [send]
    """,
}


def write_probe(root: Path, probe: dict[str, str] = PROBE, name: str = "lean") -> Path:
    module = root / "modules" / name
    module.mkdir(parents=True)
    for file, text in probe.items():
        (module / file).write_text(textwrap.dedent(text).lstrip())
    return root / "modules"


async def loaded_in(nats_url: str) -> list[str]:
    client = await connect_once(nats_url, "lean-test")
    try:
        reply = await client.request("lean.loaded", b"", timeout=10)
    finally:
        await client.close()
    return json.loads(reply.data)


async def test_a_module_process_loads_no_console_documents_or_s3(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    modules = write_probe(tmp_path)
    env = module_env(nats_server.url, tmp_path / "data", modules)
    process = ModuleProcess(["lean"], env, tmp_path, tmp_path / "module.log")
    process.start()
    try:
        await process.wait_visible(nats_server.url, started=True)
        assert await loaded_in(nats_server.url) == [], process.output()
    finally:
        await process.stop()


async def test_a_worker_loads_no_uvicorn_or_console(webos: KernelHarness, tmp_path: Path) -> None:
    modules = write_probe(tmp_path)
    worker = await webos.run_worker("lean", modules_path=modules)
    await worker.wait_visible(webos.nats_url, started=True)
    loaded = set(await loaded_in(webos.nats_url))
    assert not {"uvicorn", "watchfiles", "jinja2", "kernel.console._shell"} & loaded, (
        worker.output()
    )


def _post(url: str) -> dict[str, str]:
    request = urllib.request.Request(url, b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.loads(response.read())


def _post_json(url: str, body: dict[str, object]) -> object:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.asynccontextmanager
async def gateway_serving(nats_url: str, root: Path, modules: Path) -> AsyncIterator[str]:
    """A real ``webos run`` (task worker elsewhere) serving ``modules``: its URL once ready."""
    port = free_port()
    env = module_env(nats_url, root / "data", modules, WEBOS_PORT=str(port))
    env["WEBOS_TASKS_WORKER"] = "false"
    webos = str(Path(sys.executable).parent / "webos")
    with (root / "gateway.log").open("wb") as log:
        gateway = await asyncio.create_subprocess_exec(
            webos, "run", cwd=root, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert gateway.returncode is None, (root / "gateway.log").read_text()
            if await asyncio.to_thread(_ready, f"{base}/ready"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError((root / "gateway.log").read_text())
        yield base
    finally:
        gateway.terminate()
        await asyncio.wait_for(gateway.wait(), 15)


async def test_a_gateway_without_a_worker_or_s3_mounts_loads_no_taskiq_or_minio(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    modules = write_probe(tmp_path)
    shutil.copytree(REPO_MODULES / "files", modules / "files")  # storage on a local mount
    write_probe(tmp_path, SENDER, "sender")
    async with gateway_serving(nats_server.url, tmp_path, modules) as base:
        loaded = await loaded_in(nats_server.url)
        # No module here has Documents or an S3 mount, nobody opened the console yet (Jinja) or
        # signed in to it (httpx), and the worker and the scheduler run in processes of their
        # own, so nothing has sent a task yet (taskiq and its aiohttp).
        lazy = {"minio", "beanie", "pymongo", "mongomock", "httpx", "taskiq", "aiohttp", "jinja2"}
        lazy |= {"litestar.plugins.opentelemetry", "wrapt", "attr"}  # no spans, no attrs routes
        assert not lazy & set(loaded), loaded
        # The first send opens the broker: the task is queued for a worker started later.
        sent = await asyncio.to_thread(_post, f"{base}/api/sender/")
        assert sent["task_id"]
        assert "taskiq" in await loaded_in(nats_server.url)
        # The first console page renders its template.
        login = await asyncio.to_thread(_get, f"{base}/console/login")
        assert b"<html" in login.lower()
        assert "jinja2" in await loaded_in(nats_server.url)


#: A module whose route takes and returns an attrs class.
ATTRS_ROUTE = {
    "module.toml": 'name = "shapes"\nversion = "0.1.0"\ndepends = []\n',
    "__init__.py": "",
    "router.py": """
        import attrs
        from litestar import post

        from kernel.auth import PUBLIC

        @attrs.define
        class Square:
            side: int
            colour: str

        @post("/square", opt=PUBLIC, status_code=200)
        async def grow(data: Square) -> Square:
            return Square(side=data.side * 2, colour=data.colour)

        route_handlers = [grow]
    """,
}


async def test_a_route_with_an_attrs_class_keeps_its_schema_and_its_parsing(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    # The gateway leaves Litestar's attrs plugin out only while nothing imported attrs; a module
    # that uses it has, by the time the app is built.
    modules = write_probe(tmp_path, ATTRS_ROUTE, "shapes")
    async with gateway_serving(nats_server.url, tmp_path, modules) as base:
        document = json.loads(await asyncio.to_thread(_get, f"{base}/schema/openapi.json"))
        schemas = document["components"]["schemas"]
        squares = [schema for name, schema in schemas.items() if name.endswith("Square")]
        assert len(squares) == 1, sorted(schemas)
        square = squares[0]
        assert square["properties"]["side"]["type"] == "integer", square
        assert square["properties"]["colour"]["type"] == "string", square
        grown = await asyncio.to_thread(
            _post_json, f"{base}/api/shapes/square", {"side": 3, "colour": "red"}
        )
        assert grown == {"side": 6, "colour": "red"}
