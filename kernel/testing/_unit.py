"""Unit tests of a module without a nats-server: the ``webos_unit`` fixture.

A unit kernel runs the chosen modules' code as the gateway does (settings, models, services,
events, routes, hooks, ``ui.py``) with the subsystems that need no NATS: security (test tokens
are signed by its keys), the embedded document store and local storage. Its bus is in memory
(``Bus.connect_in_memory``): what a route emits is captured and delivered to this kernel's
handlers, durable ones retried and dead-lettered in memory. HTTP goes through httpx's
``ASGITransport``, in-process, no sockets. Nodes, serving services over NATS, the tasks broker
and forwarding are left out: a service of a module the test does not start is replaced with
:meth:`UnitApp.stub_service`. Tasks of the started modules run in this process
(``kernel.tasks.MemoryTasks``): ``await ref.kiq(...)`` in a route runs the task with the
caller's principal and trace, ``await app.finished(ref)`` waits for it.

The ``webos`` fixture (real nats-server, real HTTP, real subprocesses) stays the integration
test: these doubles are for the inner loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide

from kernel.assembly import HOOKSPECS
from kernel.auth import SecuritySubsystem, issue_access_token
from kernel.bus import (
    BusSettings,
    DurableSettings,
    Event,
    EventsConvention,
    EventType,
    MemoryDeadLetter,
    MemoryDelivery,
)
from kernel.console import CatalogSubsystem, UiConvention
from kernel.contracts import Host, Role, Subsystem
from kernel.db import DatabaseSubsystem, ModelsConvention
from kernel.gateway import create_app
from kernel.modules import (
    HooksConvention,
    ModuleConvention,
    ModuleSet,
    ModulesSettings,
    RouterConvention,
    SettingsConvention,
)
from kernel.nodes import NodeTable
from kernel.propagation import Propagation
from kernel.registry import ServicesConvention
from kernel.runtime import Kernel
from kernel.settings import KernelSettings
from kernel.storage import StorageSubsystem
from kernel.tasks import (
    BoundTask,
    MemoryTasks,
    TaskRef,
    TasksConvention,
    TasksSettings,
    TaskStatus,
    activate,
    deactivate,
)
from kernel.testing._harness import environment, forget_modules
from kernel.transport import covers

log = logging.getLogger("webos.testing")

#: Seconds :meth:`UnitApp.handled` waits by default: a failure bound, not a speed target.
HANDLED_WAIT = 5.0


class _StandIns:
    """What a unit kernel has instead of the subsystems that need NATS: an empty node table (no
    heartbeats) and :class:`MemoryTasks`, running the started modules' tasks in this process."""

    name = "unit-test stand-ins"

    def __init__(self) -> None:
        self.table = NodeTable()
        self.tasks: MemoryTasks | None = None

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        app_config.dependencies["node_table"] = Provide(lambda: self.table, sync_to_thread=False)
        app_config.dependencies["tasks"] = Provide(lambda: self.tasks, sync_to_thread=False)
        return app_config

    async def start(self, host: Host) -> None:
        modules, settings = host.get(ModuleSet), host.get(TasksSettings)
        bound = [
            BoundTask.of(module.name, ref, settings)
            for module in modules.running.values()
            for ref in module.extras.get("tasks", [])
        ]
        self.tasks = MemoryTasks(
            {task.name: task for task in bound},
            modules.packages(),
            propagation=host.get(Propagation),
        )
        activate(self.tasks)

    async def stop(self) -> None:
        tasks, self.tasks = self.tasks, None
        if tasks is not None:
            deactivate(tasks)
            for what in await tasks.close():
                log.warning("unit kernel stopped: %s", what)

    async def check(self) -> str | None:
        return None

    def memory_tasks(self) -> MemoryTasks:
        if self.tasks is None:
            raise RuntimeError("the unit kernel is not started: it runs no tasks")
        return self.tasks


def unit_kernel(settings: KernelSettings) -> Kernel:
    """The unit-test preset: the gateway's conventions over subsystems that need no NATS."""
    subsystems: list[Subsystem] = [
        SecuritySubsystem(),
        DatabaseSubsystem(),
        StorageSubsystem(),
        CatalogSubsystem(),
        _StandIns(),
    ]
    conventions: list[ModuleConvention] = [
        SettingsConvention(),
        ModelsConvention(),
        ServicesConvention(),
        EventsConvention(),
        RouterConvention(),
        HooksConvention(),
        TasksConvention(),
        UiConvention(),
    ]
    return Kernel(
        settings,
        role=Role.GATEWAY,
        subsystems=subsystems,
        conventions=conventions,
        hookspecs=HOOKSPECS,
    )


async def _enter_lifespan(app: Litestar, stack: contextlib.AsyncExitStack) -> None:
    """Run the app's lifespan (its startup and shutdown handlers) in a task of its own: the
    fixture's setup and teardown run in different tasks, and the lifespan's task group must be
    left by the task that entered it."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve(), name="unit app lifespan")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # a startup handler raised: its error is the test's

    async def leave() -> None:
        stop.set()
        await task

    stack.push_async_callback(leave)


class UnitApp:
    """A started unit kernel: its in-process HTTP ``client`` and what its bus saw."""

    def __init__(self, kernel: Kernel, app: Litestar, memory: MemoryDelivery) -> None:
        self.kernel = kernel
        self.app = app
        self.memory = memory
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # an ASGI app
            base_url="http://webos.test",
            timeout=10,
        )

    def auth_headers(
        self, roles: Sequence[str] = ("admin",), *, subject: str = "test-user"
    ) -> dict[str, str]:
        """``Authorization`` for a caller with ``roles``, signed by this kernel's own keys."""
        config = self.kernel.get(SecuritySubsystem).signing.tokens()
        token = issue_access_token(config, subject, roles=list(roles))
        return {"Authorization": f"Bearer {token}"}

    def captured_events(self, subject: str | EventType[Any] = ">") -> list[Event]:
        """The events emitted so far on subjects ``subject`` matches (a pattern or a declared
        event), oldest first: each with ``subject``, ``source``, ``headers`` and ``json()``."""
        pattern = subject.subject if isinstance(subject, EventType) else subject
        return [event for event in self.memory.emitted if covers(pattern, event.subject)]

    @property
    def dead_letters(self) -> list[MemoryDeadLetter]:
        """Events durable handlers gave up on: ``subject``, ``handler``, ``error``, ``json()``."""
        return list(self.memory.dead_letters)

    def stub_service(self, name: str, fake: Any) -> None:
        """Make ``registry.get(name)`` return ``fake``: a service of a module this test does not
        start (over NATS it would be a proxy to another process)."""
        registry = self.kernel.registry
        if name in registry:
            raise ValueError(
                f"service {name!r} runs in this kernel (its module was started): stub only "
                "services of modules the test does not start"
            )
        registry.declare_remote(name, fake)

    async def handled(
        self, subject: str | EventType[Any], count: int = 1, *, timeout: float = HANDLED_WAIT
    ) -> list[Event]:
        """Wait until ``count`` events on ``subject`` (a pattern or a declared event) have been
        handled by every handler that takes them (retries and dead letters included); return
        them. Fails with what was emitted and handled when that does not happen in ``timeout``."""
        pattern = subject.subject if isinstance(subject, EventType) else subject
        memory = self.memory
        taken = {handler["subject"] for handler in self.kernel.bus.handlers()}
        if not any(covers(pattern, s) or covers(s, pattern) for s in taken):
            takers = ", ".join(sorted(taken)) or "none"
            raise AssertionError(
                f"no handler of this kernel takes {pattern!r}: nothing to wait for. "
                f"Handlers take: {takers}"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            done = [event for event in memory.settled if covers(pattern, event.subject)]
            if len(done) >= count:
                return done
            left = deadline - loop.time()
            try:
                await asyncio.wait_for(memory.changed().wait(), max(left, 0))
            except TimeoutError:
                emitted = [event.subject for event in memory.emitted]
                raise AssertionError(
                    f"{len(done)} of {count} event(s) on {pattern!r} were handled within "
                    f"{timeout} s. Emitted so far: {emitted or 'nothing'}"
                ) from None

    @property
    def tasks(self) -> list[TaskStatus]:
        """Every task sent so far, oldest first, as its status stands now (``state``,
        ``attempts``, ``principal``, ``correlation_id``, ``progress``, ``result``, ``error``)."""
        return self.kernel.get(_StandIns).memory_tasks().records

    async def finished(
        self, task: str | TaskRef[Any, Any], count: int = 1, *, timeout: float = HANDLED_WAIT
    ) -> list[TaskStatus]:
        """Wait until ``count`` runs of ``task`` (a ``@task`` function or ``"module.name"``)
        have succeeded or failed, retries included; return their statuses. Fails with what was
        sent when that does not happen in ``timeout``."""
        tasks = self.kernel.get(_StandIns).memory_tasks()
        name = task if isinstance(task, str) else tasks.name_of(task)
        if name not in tasks.tasks:
            known = ", ".join(sorted(tasks.tasks)) or "none"
            raise AssertionError(
                f"no task {name!r} in this kernel: nothing to wait for. Tasks: {known}"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = tasks.changed()
            done = [record for record in tasks.records if record.task == name and record.done]
            if len(done) >= count:
                return done
            try:
                await asyncio.wait_for(changed.wait(), max(deadline - loop.time(), 0))
            except TimeoutError:
                sent = [(record.task, record.state.value) for record in tasks.records]
                raise AssertionError(
                    f"{len(done)} of {count} run(s) of {name!r} finished within {timeout} s. "
                    f"Sent so far: {sent or 'nothing'}"
                ) from None

    async def stop(self) -> None:
        await self.client.aclose()
        await self.kernel.stop()


class UnitHarness:
    """Builds unit kernels (no nats-server); everything it started stops in :meth:`close`."""

    def __init__(self, data_dir: Path, modules_path: Path | None = None) -> None:
        self.data_dir = data_dir
        self.modules_path = modules_path or ModulesSettings().modules_path
        self._running: list[tuple[UnitApp, contextlib.AsyncExitStack]] = []
        self._paths: set[Path] = set()

    async def start(
        self,
        modules: Sequence[str] | None = None,
        *,
        modules_path: Path | None = None,
        exclude: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        stubs: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> UnitApp:
        """Start the chosen modules in a unit kernel. ``stubs``: services of other modules,
        replaced before any startup hook runs; ``environ`` and ``overrides`` as for
        ``webos.start`` (variables while the kernel loads; kernel settings by variable name)."""
        settings = KernelSettings(
            data_dir=self.data_dir,
            modules_path=modules_path or self.modules_path,
            only=list(modules or []),
            exclude=list(exclude),
            **overrides,
        )
        forget_modules(settings.modules.modules_path)
        self._paths.add(settings.modules.modules_path)
        kernel = unit_kernel(settings)
        with environment(environ or {}):
            app = create_app(kernel, manage_kernel=False)  # loads the modules
        memory = kernel.bus.connect_in_memory(
            durable=kernel.get(DurableSettings),
            propagation=kernel.propagation,
            settings=kernel.get(BusSettings),
            event_log=settings.event_log,
        )
        unit = UnitApp(kernel, app, memory)
        # From here a failure stops the kernel: its in-memory bus is the process's bus, which
        # the next kernel (the next test's) must find closed.
        stack = contextlib.AsyncExitStack()
        stack.push_async_callback(unit.stop)
        try:
            for name, fake in (stubs or {}).items():
                unit.stub_service(name, fake)
            await kernel.start()
            await _enter_lifespan(app, stack)
        except BaseException:
            await stack.aclose()
            raise
        self._running.append((unit, stack))
        return unit

    async def close(self) -> None:
        """Stop every kernel started here, each even when stopping another failed (the first
        failure is raised after), and forget the modules they imported."""
        running, self._running = self._running, []
        failures: list[BaseException] = []
        for _, stack in reversed(running):
            try:
                await stack.aclose()
            except Exception as error:
                failures.append(error)
        for path in self._paths:
            forget_modules(path)
        if failures:
            raise failures[0]
