"""Boot real kernels for tests: a real nats-server, real Litestar over HTTP, fresh state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import uvicorn

from kernel.assembly import CoalescingHttpToolsProtocol, gateway_kernel
from kernel.auth import SecuritySubsystem, issue_access_token
from kernel.gateway import create_app
from kernel.modules import ModulesSettings
from kernel.runtime import Kernel
from kernel.settings import KernelSettings
from kernel.testing._processes import ModuleProcess, module_env
from kernel.testing._workers import start_worker
from kernel.transport import nats_servers


async def server_caught_up(client: Any) -> None:
    """Return once the server has handled everything ``client`` (a nats-py connection) sent so
    far: its subscriptions hear what any connection publishes next, and its messages reached
    the subscribers there were.

    One ``flush()`` is not enough: nats-py writes a flush's PING straight to the socket while a
    SUB or PUB may still wait for its writer task, so the first PONG can come back before the
    server has read them. The second PING follows them on the wire: its PONG proves it.
    """
    await client.flush()
    await client.flush()


@dataclass(frozen=True)
class ReceivedMessage:
    subject: str
    data: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.data)


class MessageCollector:
    """A raw NATS subscription that queues what it receives, for assertions."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ReceivedMessage] = asyncio.Queue()
        self.subscription: Any = None

    async def _receive(self, msg: Any) -> None:
        await self.queue.put(ReceivedMessage(msg.subject, msg.data, dict(msg.headers or {})))

    async def next(self, timeout: float = 5.0) -> ReceivedMessage:
        """The next message; raises TimeoutError if none arrives (a failure bound, not a SLO)."""
        return await asyncio.wait_for(self.queue.get(), timeout)

    def drain(self) -> list[ReceivedMessage]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


@dataclass
class RunningKernel:
    """A started kernel with its HTTP server; ``client`` talks to it over real HTTP."""

    kernel: Kernel
    url: str
    client: httpx.AsyncClient
    nats: Any
    _server: uvicorn.Server
    _task: asyncio.Task[None]
    _subscriptions: list[Any] = field(default_factory=list)
    _stopped: bool = False

    def auth_headers(
        self, roles: Sequence[str] = ("admin",), *, subject: str = "test-user"
    ) -> dict[str, str]:
        """``Authorization`` for a caller with ``roles``, signed by this kernel's own keys."""
        config = self.kernel.get(SecuritySubsystem).signing.tokens()
        token = issue_access_token(config, subject, roles=list(roles))
        return {"Authorization": f"Bearer {token}"}

    async def subscribe(self, subject: str) -> MessageCollector:
        collector = MessageCollector()
        # An emit returns once its message is queued on the kernel's connection, and messages
        # of two connections are not ordered: an event emitted before this call (a login's)
        # could otherwise still reach the new subscription.
        if self.kernel.bus.connected:
            await server_caught_up(self.kernel.bus.nats)
        collector.subscription = await self.nats.subscribe(subject, cb=collector._receive)
        await server_caught_up(self.nats)
        self._subscriptions.append(collector.subscription)
        return collector

    async def stop(self) -> None:
        """Stop HTTP and the kernel (hooks, bus). Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        await self.client.aclose()
        self._server.should_exit = True
        await self._task
        await self.kernel.stop()
        await self.nats.close()


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def write_module(
    root: Path, name: str, files: Mapping[str, str], *, manifest: str | None = None
) -> Path:
    """Write a module folder (``module.toml`` plus the given files) for a test."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "module.toml").write_text(manifest if manifest is not None else f'name = "{name}"\n')
    (folder / "__init__.py").write_text("")
    for filename, text in files.items():
        (folder / filename).write_text(text)
    return folder


def forget_modules(modules_path: Path) -> None:
    """Drop imported module packages under ``modules_path`` (and its ``sys.path`` entry) so the
    next kernel imports afresh and no test sees another test's modules."""
    root = str(modules_path.resolve())
    while root in sys.path:
        sys.path.remove(root)
    for name, loaded in list(sys.modules.items()):
        origin = getattr(loaded, "__file__", None) or ""
        if origin.startswith(root) and ".tests" not in name and not name.startswith("test"):
            del sys.modules[name]


class KernelHarness:
    """Builds kernels against one NATS server; everything it started stops in :meth:`close`."""

    def __init__(self, nats_url: str, data_dir: Path, modules_path: Path | None = None) -> None:
        self.nats_url = nats_url
        self.data_dir = data_dir
        self.modules_path = modules_path or ModulesSettings().modules_path
        self._running: list[RunningKernel] = []
        self._paths: set[Path] = set()
        self._processes: list[ModuleProcess] = []
        self._roles: tuple[str, ...] | None = None

    def sign_in_as(self, *roles: str) -> None:
        """Kernels started from now on get a ``client`` that sends a token with ``roles``."""
        self._roles = roles

    async def run_module(
        self,
        *names: str,
        modules_path: Path | None = None,
        wait: bool = True,
        **env: str,
    ) -> ModuleProcess:
        """Start ``webos module run NAMES`` against this harness's NATS (a real subprocess)."""
        path = Path(modules_path or self.modules_path)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        process = ModuleProcess(
            names,
            module_env(self.nats_url, self.data_dir, path, **env),
            cwd=self.data_dir.parent,
            log=self.data_dir / f"module-{'-'.join(names)}-{len(self._processes)}.log",
        )
        process.start()
        self._processes.append(process)
        if wait:
            await process.wait_visible(self.nats_url, started=True)
        return process

    async def run_worker(self, *modules: str, **options: Any) -> ModuleProcess:
        """Start ``webos worker --modules MODULES`` as a real subprocess (see _workers.py)."""
        return await start_worker(self, self._processes, modules, **options)

    def settings(
        self,
        modules: Sequence[str] | None = None,
        *,
        modules_path: Path | None = None,
        exclude: Sequence[str] = (),
        **overrides: Any,
    ) -> KernelSettings:
        overrides.setdefault("heartbeat_interval", 0.5)  # node up/down within a second or two
        return KernelSettings(
            nats_url=self.nats_url,
            data_dir=self.data_dir,
            modules_path=modules_path or self.modules_path,
            only=list(modules or []),
            exclude=list(exclude),
            **overrides,
        )

    async def start(
        self,
        modules: Sequence[str] | None = None,
        *,
        modules_path: Path | None = None,
        exclude: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> RunningKernel:
        """Start a gateway kernel with the chosen modules and serve it on a free port.

        ``overrides`` are kernel settings by their variable's name (``tasks_worker=True``);
        ``environ`` sets environment variables while the kernel loads, which is where modules read
        their own settings (``{"WEBOS_MOD_GREETER_GREETING": "Hi"}``).
        """
        settings = self.settings(modules, modules_path=modules_path, exclude=exclude, **overrides)
        forget_modules(settings.modules.modules_path)
        self._paths.add(settings.modules.modules_path)
        kernel = gateway_kernel(settings)
        with environment(environ or {}):
            app = create_app(kernel, manage_kernel=False)
        # Started here rather than in the app's lifespan: uvicorn turns a lifespan failure into
        # SystemExit, which would end the test session instead of failing one test.
        await kernel.start()
        sock = _listening_socket()
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                lifespan="on",
                timeout_graceful_shutdown=5,
                proxy_headers=False,  # as the gateway serves it (kernel/assembly/_gateway.py)
                http=CoalescingHttpToolsProtocol,
            )
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                sock.close()
                await kernel.stop()
                task.result()
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        client = httpx.AsyncClient(base_url=url, timeout=10)
        raw = await nats.connect(**nats_servers(self.nats_url).connect_options())
        running = RunningKernel(kernel, url, client, raw, server, task)
        if self._roles is not None:
            client.headers.update(running.auth_headers(self._roles))
        self._running.append(running)
        return running

    async def close(self) -> None:
        for process in self._processes:
            process.kill()
        self._processes.clear()
        for running in reversed(self._running):
            await running.stop()
        self._running.clear()
        for path in self._paths:
            forget_modules(path)
        await purge_jetstream(self.nats_url)


async def purge_jetstream(nats_url: str) -> None:
    """Delete every stream (KV buckets included) so no state leaks into the next test."""
    client = await nats.connect(**nats_servers(nats_url).connect_options())
    try:
        stream = client.jetstream()
        with contextlib.suppress(Exception):
            for info in await stream.streams_info():
                if info.config.name:
                    await stream.delete_stream(info.config.name)
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def running_kernel(harness: KernelHarness, **kwargs: Any) -> AsyncIterator[RunningKernel]:
    running = await harness.start(**kwargs)
    try:
        yield running
    finally:
        await running.stop()


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set ``variables`` in ``os.environ`` for the block, then restore what was there."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
