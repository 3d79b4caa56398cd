"""The tasks subsystem: binds every module's tasks to the broker, sends, and runs the worker
and the scheduler where this process is meant to.

Every kernel process can send (``await ref.kiq(...)``). The worker runs in ``webos worker``, and
in the gateway when ``WEBOS_TASKS_WORKER`` is on (by default: on embedded defaults, i.e. when
``WEBOS_NATS_URL`` is unset). The scheduler likewise runs in ``webos scheduler``, and in the
gateway when ``WEBOS_TASKS_SCHEDULER`` is on (same default).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from litestar.di import Provide

from kernel.auth import Principal, SecuritySubsystem, system_principal, use_principal
from kernel.bus import Bus
from kernel.config import CoreSettings
from kernel.contracts import Host, Role
from kernel.errors import WebOSError
from kernel.modules import LoadedModule, ModuleSet, defined_here
from kernel.propagation import Propagation
from kernel.tasks._active import TaskRecords, TasksNotRunning, activate, deactivate
from kernel.tasks._context import outgoing_labels
from kernel.tasks._decorator import TaskRef, module_task_name
from kernel.tasks._mine import MINE_LIMIT, MINE_SCAN, newest_first
from kernel.tasks._settings import TasksSettings
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, child_span
from kernel.transport import AckedPublisher, JetStreamSettings, NatsSettings, PayloadTooLarge

# taskiq (and the aiohttp it imports, about 10 MB) loads with the broker, the store, the worker
# and the scheduler: in a module process without tasks.py, on its first send or status read.
if TYPE_CHECKING:
    from litestar.config.app import AppConfig
    from taskiq import ScheduledTask

    from kernel.tasks._broker import KernelTaskBroker, PrincipalOf
    from kernel.tasks._schedule import Scheduler
    from kernel.tasks._store import StatusStore, TaskStatus
    from kernel.tasks._worker import BoundTask, Worker

log = logging.getLogger("webos.tasks")


class UnknownTask(WebOSError, LookupError):
    """A task whose module this kernel does not know."""

    http_status = 404


class UndeclaredTaskTarget(WebOSError, PermissionError):
    """A module process queued a task of a module its manifest does not name in sends_tasks_to."""


class TasksConvention:
    """``tasks.py``: collect the functions marked with ``@task``."""

    stem = "tasks"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        refs = [value for _, value in defined_here(source) if isinstance(value, TaskRef)]
        module.extras["tasks"] = refs


class TasksSubsystem(TaskRecords):
    name = "tasks"

    def __init__(self) -> None:
        self.broker: KernelTaskBroker | None = None
        self.store: StatusStore | None = None
        self.publisher: AckedPublisher | None = None
        self.worker: Worker | None = None
        self.scheduler: Scheduler | None = None
        self.tasks: dict[str, BoundTask] = {}
        self._packages: dict[str, str] = {}
        #: Modules whose tasks this process may queue; None: any (kernel processes).
        self._targets: frozenset[str] | None = None
        self._settings: TasksSettings | None = None
        self._host: Host | None = None
        self._propagation = Propagation.default()
        self._principal_of: PrincipalOf = lambda _token, _at: None
        #: The names of this process's modules' tasks, bound or not yet (``describe``).
        self._declared: list[str] = []
        #: Started, with the broker and the store opened on first use (``_open_when_used``).
        self._deferred = False
        self._opening = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        """Route handlers may take ``tasks: TasksSubsystem`` (the system views do)."""
        app_config.dependencies["tasks"] = Provide(lambda: self, sync_to_thread=False)
        return app_config

    async def start(self, host: Host) -> None:
        self._host = host
        self._settings = host.get(TasksSettings)
        modules = host.get(ModuleSet)
        self._packages = modules.packages()
        if host.role is Role.MODULE:  # as its NATS user may (kernel.deploy): dev fails like prod
            self._targets = frozenset(modules.running).union(
                *(module.spec.manifest.sends_tasks_to for module in modules.running.values())
            )
        self._propagation = host.get(Propagation)
        self._declared = sorted(
            self.name_of(ref)
            for module in modules.running.values()
            for ref in module.extras.get("tasks", [])
        )
        if self._opens_when_used(host, modules):
            # It may still send or read a status, and opens the broker then (taskiq and its
            # aiohttp stay out of memory until used).
            self._deferred = True
            if host.role is Role.GATEWAY:
                await self._prepare_storage(host)
            activate(self)
            return
        await self._open(host)

    async def _prepare_storage(self, host: Host) -> None:
        """The task stream and the status bucket, without the broker: modules and tools send and
        read through them before this gateway opens its broker (or if it never does)."""
        from kernel.tasks._store import STATUS_BUCKET, open_bucket
        from kernel.tasks._stream import ensure_stream

        settings = host.get(TasksSettings)
        replicas = host.get(JetStreamSettings).replicas
        js = host.get(Bus).nats.jetstream()
        await ensure_stream(js, settings.max_age, replicas)
        await open_bucket(js, STATUS_BUCKET, ttl=settings.result_ttl, replicas=replicas)

    def _opens_when_used(self, host: Host, modules: ModuleSet) -> bool:
        """A process that runs neither the worker nor the scheduler: a module process without
        tasks of its own, or the gateway with both off (``WEBOS_TASKS_WORKER``, ``_SCHEDULER``)."""
        if host.role is Role.MODULE:
            return not any(module.extras.get("tasks") for module in modules.running.values())
        settings = host.get(TasksSettings)
        return not (
            self._runs_worker(host.role, settings, host)
            or self._runs_scheduler(host.role, settings, host)
        )

    async def _open(self, host: Host) -> None:
        from kernel.tasks._broker import KernelTaskBroker, queued_status
        from kernel.tasks._schedule import KvScheduleSource, Scheduler
        from kernel.tasks._store import StatusStore
        from kernel.tasks._worker import Worker

        settings = host.get(TasksSettings)
        core = host.get(CoreSettings)
        nats = host.get(Bus).nats
        modules = host.get(ModuleSet)
        js = nats.jetstream()
        security = host.find(SecuritySubsystem)

        def principal_of(token: str, at: datetime) -> str | None:
            identity = security.identity if security is not None else None
            if identity is None:
                return None
            principal = identity.verifier.principal(token, at)
            return principal.id if principal.is_authenticated else None

        self.publisher = AckedPublisher(nats, timeout=core.request_timeout)
        await self.publisher.start()
        replicas = host.get(JetStreamSettings).replicas
        self.store = await StatusStore.open(
            js,
            self.publisher,
            ttl=settings.result_ttl,
            pending=lambda task_id: queued_status(js, task_id, principal_of),
            replicas=replicas,
        )
        self._principal_of = principal_of
        self.broker = KernelTaskBroker(
            nats, self.store, max_age=settings.max_age, replicas=replicas
        )
        self.tasks = {}
        for module in modules.running.values():
            for ref in module.extras.get("tasks", []):
                bound = self._bind(module.name, ref)
                # Not broker.register_task: taskiq renames the function and injects it into its
                # module; the worker looks tasks up here instead.
                self.tasks[bound.name] = bound
        await self.broker.startup()
        if not self._deferred:  # a deferred start activated this subsystem already
            activate(self)
        if self._runs_worker(host.role, settings, host):
            self.worker = Worker(
                self.broker,
                self.store,
                self.tasks,
                settings=settings,
                shutdown_timeout=core.shutdown_timeout,
                node_id=host.node_id,
                propagation=self._propagation,
            )
            await self.worker.start(js)
        if self._runs_scheduler(host.role, settings, host):
            source = KvScheduleSource(
                nats, owner=host.node_id, context=self._as_scheduler, replicas=replicas
            )
            self.scheduler = Scheduler(self.broker, source, self.declared_schedules())
            await self.scheduler.start()

    async def _open_when_used(self) -> None:
        """Open the broker and the store of a deferred start (once, however many ask)."""
        if not self._deferred:
            return
        async with self._opening:
            if self._deferred and self._host is not None:
                await self._open(self._host)
                self._deferred = False

    async def opened(self) -> KernelTaskBroker:
        """The broker, opened now if this process opens it on first use (for tools and tests
        that send through taskiq directly)."""
        await self._open_when_used()
        if self.broker is None:
            raise TasksNotRunning("the tasks subsystem is not started")
        return self.broker

    def _as_scheduler(self) -> dict[str, str]:
        """What a scheduled send carries: ``system:scheduler``, signed like any principal."""
        with use_principal(system_principal("scheduler")):
            return outgoing_labels(self._propagation)

    @staticmethod
    def _embedded(host: Host) -> bool:
        return host.get(NatsSettings).embedded

    def _runs_worker(self, role: Role, settings: TasksSettings, host: Host) -> bool:
        if role is Role.WORKER:
            return True
        enabled = settings.worker if settings.worker is not None else self._embedded(host)
        return role is Role.GATEWAY and enabled

    def _runs_scheduler(self, role: Role, settings: TasksSettings, host: Host) -> bool:
        if role is Role.SCHEDULER:
            return True
        enabled = settings.scheduler if settings.scheduler is not None else self._embedded(host)
        return role is Role.GATEWAY and enabled

    async def stop(self) -> None:
        self._deferred = False  # nothing opens after stop: sends raise TasksNotRunning
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.scheduler = None
        if self.worker is not None:
            host = self._host
            cut = await self.worker.stop(host.time_left() if host is not None else None)
            for what in cut:
                if host is not None:
                    host.cut_off(what)
            self.worker = None
        deactivate(self)
        if self.broker is not None:
            await self.broker.shutdown()
            self.broker = None
        if self.publisher is not None:
            await self.publisher.close()
            self.publisher = None

    async def check(self) -> str | None:
        return None

    # -- binding ---------------------------------------------------------------------------

    def _bind(self, module: str, ref: TaskRef[Any, Any]) -> BoundTask:
        from kernel.tasks._worker import BoundTask

        settings = self._settings
        if settings is None:
            raise TasksNotRunning("the tasks subsystem is not started")
        return BoundTask.of(module, ref, settings)

    def name_of(self, ref: TaskRef[Any, Any]) -> str:
        """``<module>.<function>`` for a task of any discovered module (local or elsewhere)."""
        return module_task_name(ref, self._packages, UnknownTask)

    def declared_schedules(self) -> list[ScheduledTask]:
        from taskiq import ScheduledTask

        schedules = []
        for bound in self.tasks.values():
            options = bound.ref.options
            if bound.schedule_id is None:
                continue
            schedules.append(
                ScheduledTask(
                    schedule_id=bound.schedule_id,
                    task_name=bound.name,
                    labels=_static_labels(bound),
                    args=[],
                    kwargs={},
                    cron=options.schedule,
                    interval=timedelta(seconds=options.every.total_seconds())
                    if options.every
                    else None,
                )
            )
        return schedules

    # -- sending ---------------------------------------------------------------------------

    async def send(self, ref: TaskRef[Any, Any], args: Any, kwargs: Any) -> Any:
        """Queue ``ref`` with the caller's context; returns taskiq's ``AsyncTaskiqTask``."""
        from taskiq.exceptions import SendTaskError
        from taskiq.kicker import AsyncKicker

        await self._open_when_used()
        if self.broker is None:
            raise TasksNotRunning("the tasks subsystem is not started")
        name = self.name_of(ref)
        target = name.partition(".")[0]
        if self._targets is not None and target not in self._targets:
            raise UndeclaredTaskTarget(
                f"cannot queue {name}: this module process may queue only the tasks of "
                f"{', '.join(sorted(self._targets))}. Add {target!r} to sends_tasks_to in the "
                "sending module's module.toml (and regenerate `webos nats-config`)"
            )
        bound = self.tasks.get(name)
        # The producer span is current while the labels are taken: the task's traceparent names it.
        span_name, span_attributes = _send_span(name)
        with child_span(span_name, SpanKind.PRODUCER, span_attributes) as span:
            labels = outgoing_labels(self._propagation)
            if bound is not None:
                labels.update(_static_labels(bound))
            elif ref.options.timeout is not None:
                labels["timeout"] = str(ref.options.timeout)
            kicker: AsyncKicker[Any, Any] = AsyncKicker(name, self.broker, labels)
            try:
                sent = await kicker.kiq(*args, **kwargs)
            except SendTaskError as error:
                # taskiq wraps every failure to send; one the sender can act on (too large: a
                # 413 through HTTP) is raised as itself.
                if isinstance(error.__cause__, PayloadTooLarge):
                    raise error.__cause__ from None
                raise
            span.set_attribute("messaging.message.id", sent.task_id)
        instruments().tasks_sent.add(1, attributes(task=name))
        return sent

    async def status(self, task_id: str) -> TaskStatus | None:
        await self._open_when_used()
        if self.store is None:
            raise TasksNotRunning("the tasks subsystem is not started")
        return await self.store.get(task_id)

    async def recent(self, limit: int) -> list[TaskStatus]:
        """The ``limit`` records written last and the ``limit`` oldest tasks still queued."""
        from kernel.tasks._broker import queued_tasks

        await self._open_when_used()
        if self.store is None or self.broker is None:
            raise TasksNotRunning("the tasks subsystem is not started")
        recorded = await self.store.latest(limit)
        known = {status.id for status in recorded}
        queued = await queued_tasks(self.broker.js, limit, self._principal_of)
        return recorded + [status for status in queued if status.id not in known]

    async def mine(self, principal: Principal, limit: int = MINE_LIMIT) -> list[TaskStatus]:
        """The tasks ``principal`` started (queued, running, finished recently), newest first;
        only those among the last ``MINE_SCAN`` records and the ``MINE_SCAN`` oldest queued."""
        from kernel.tasks._broker import queued_tasks

        await self._open_when_used()
        if self.store is None or self.broker is None:
            raise TasksNotRunning("the tasks subsystem is not started")
        if not principal.is_authenticated:
            return []
        recorded = await self.store.latest_of(principal.id, limit, scan=MINE_SCAN)
        known = {status.id for status in recorded}
        queued = await queued_tasks(self.broker.js, MINE_SCAN, self._principal_of)
        waiting = [s for s in queued if s.principal == principal.id and s.id not in known]
        return newest_first(recorded + waiting)[:limit]

    def describe(self) -> dict[str, Any]:
        return {
            "tasks": sorted(self.tasks) if self.tasks else self._declared,
            "worker": None
            if self.worker is None
            else {"modules": self.worker.modules, **self.worker.counts},
            "scheduler": self.scheduler is not None,
        }


def _static_labels(bound: BoundTask) -> dict[str, str]:
    timeout = bound.ref.options.timeout
    return {"timeout": str(timeout)} if timeout is not None else {}


@cache
def _send_span(name: str) -> tuple[str, dict[str, str]]:
    """The producer span's name and attributes, built once per task name (spans copy them)."""
    return f"{name} send", {"messaging.system": "nats", "webos.task": name}
