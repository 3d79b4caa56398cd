"""The kernel: loads modules in explicit phases and starts and stops them around the bus.

It is the :class:`~kernel.contracts.Host` its subsystems start in: they reach its parts by type
(``host.get(Bus)``, ``host.get(TasksSettings)``), never through the kernel itself. Which
subsystems and conventions a kernel has is decided by its role's preset (``kernel.assembly``):
the runtime knows no feature by name.

Phases, each run once and in order (like Django's ``Apps.populate``):
1. discover modules and choose the ones this process runs (``only``/``exclude``);
2. order them by ``depends`` (missing modules and cycles stop here, before any import);
3. import each module's convention files and collect what they declare;
4. ``start()``: reach NATS (bounded, or ``WEBOS_NATS_WAIT``), connect the bus, then run startup
   hooks in dependency order. A stop signal during start (:meth:`Kernel.begin_stop`) cancels it.

``stop()`` runs within one ``WEBOS_SHUTDOWN_TIMEOUT`` for the whole process (``_stopping.py``):
the clock starts at the stop signal (:meth:`Kernel.begin_stop`) or at ``stop()``, and every part
waits only for what is left of it (``Host.time_left()``).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import pluggy

from kernel.bus import (
    Bus,
    BusSettings,
    DurableSettings,
    EventsConvention,
    declare_durable_handlers,
)
from kernel.bus import bus as default_bus
from kernel.config import CoreSettings, WebOSSettings
from kernel.contracts import Instances, Role, Subsystem
from kernel.errors import (
    ConfigError,
    ModuleError,
    PartNotFound,
    StartupError,
    StoppedWhileStarting,
    WebOSError,
)
from kernel.hooks import call_module_hook, new_plugin_manager
from kernel.modules import (
    HooksConvention,
    LoadedModule,
    ModuleContext,
    ModuleConvention,
    ModuleHookSpecs,
    ModuleSet,
    ModuleSpec,
    ModulesSettings,
    ModuleState,
    RouterConvention,
    SettingsConvention,
    discover,
    module_frames,
    start_order,
    with_frames,
)
from kernel.propagation import Propagation
from kernel.registry import (
    Registry,
    ServicesConvention,
    ServicesSettings,
    declare_remote_services,
)
from kernel.registry import registry as default_registry
from kernel.runtime._stopping import StopClock
from kernel.transport import (
    HAND_BACK_WAIT,
    JetStreamSettings,
    NatsSettings,
    NatsUnreachable,
    reach,
)

log = logging.getLogger("webos.kernel")
T = TypeVar("T")


def core_conventions() -> list[ModuleConvention]:
    """The convention files every kernel reads; presets add ``models``, ``tasks``, ``ui``."""
    # Order matters: settings first (others may read them), services before events and routes.
    return [
        SettingsConvention(),
        ServicesConvention(),
        EventsConvention(),
        RouterConvention(),
        HooksConvention(),
    ]


class Kernel:
    """One process's modules, bus and registry. Build a fresh one per test (with a preset)."""

    def __init__(
        self,
        settings: CoreSettings,
        *,
        role: Role | str = Role.GATEWAY,
        subsystems: Sequence[Subsystem] = (),
        conventions: Sequence[ModuleConvention] | None = None,
        hookspecs: Iterable[type] = (ModuleHookSpecs,),
        bus: Bus | None = None,
        registry: Registry | None = None,
        propagation: Propagation | None = None,
    ) -> None:
        self.settings = settings
        self.role = Role(role)
        self.bus = bus if bus is not None else default_bus
        self.registry = registry if registry is not None else default_registry
        self.propagation = propagation if propagation is not None else Propagation.default()
        self.conventions: list[ModuleConvention] = list(
            conventions if conventions is not None else core_conventions()
        )
        self.subsystems: list[Subsystem] = list(subsystems)
        # pid alone is not unique: tests run several kernels in one process.
        self.node_id = f"{self.role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.plugins: pluggy.PluginManager = new_plugin_manager(hookspecs)
        self.loaded = ModuleSet(describe_elsewhere=self._new_module)
        self._found: dict[type, Any] = {}
        self._loading = False
        self._loaded = False
        self._started = False
        self._open: list[Subsystem] = []
        self._stop_clock = StopClock(settings.shutdown_timeout)
        self._starting: asyncio.Task[Any] | None = None

    # -- the host of subsystems -------------------------------------------------------------

    def _parts(self) -> Iterator[Any]:
        yield self.settings
        yield from _settings_parts(self.settings)
        yield from (self.bus, self.registry, self.propagation, self.plugins, self.loaded)
        yield from self.subsystems

    def find(self, kind: type[T]) -> T | None:
        """The part of this kernel of type ``kind`` (a subsystem, the bus, a settings class...).

        A settings class the kernel's settings do not compose is read from the environment.
        """
        found = self._found.get(kind)
        if found is None:
            found = next((part for part in self._parts() if isinstance(part, kind)), None)
            if found is None and issubclass(kind, WebOSSettings):
                found = kind()
            if found is not None:
                self._found[kind] = found
        return found

    def get(self, kind: type[T]) -> T:
        found = self.find(kind)
        if found is None:
            names = ", ".join(type(part).__name__ for part in self._parts())
            raise PartNotFound(f"this {self.role} kernel has no {kind.__name__}. It has: {names}")
        return found

    def add_subsystem(self, subsystem: Subsystem) -> None:
        """Add a subsystem before start (it starts last)."""
        if self._started:
            raise RuntimeError("cannot add a subsystem to a kernel that has started")
        self.subsystems.append(subsystem)

    @property
    def modules(self) -> dict[str, LoadedModule]:
        """The modules this process runs, in start order."""
        return self.loaded.running

    # -- phases 1-3 ------------------------------------------------------------------------

    def load(self) -> None:
        """Discover, order and import modules. Idempotent; not re-entrant."""
        if self._loaded:
            return
        if self._loading:
            raise RuntimeError("Kernel.load() isn't reentrant")
        self._loading = True
        try:
            self._load(self.get(ModulesSettings))
            self._loaded = True
        finally:
            self._loading = False

    def _load(self, settings: ModulesSettings) -> None:
        loaded = self.loaded
        self.bus.reset()
        self.registry.clear()
        loaded.discovery = discover(settings.modules_path)
        self._refuse_broken_modules(settings)
        chosen = self._choose(settings, loaded.discovery.modules)
        loaded.external = {
            need
            for spec in chosen.values()
            for need in spec.manifest.depends
            if need not in chosen and need in loaded.discovery.modules
        }
        depends = {name: spec.manifest.depends for name, spec in chosen.items()}
        order = start_order(depends, available_elsewhere=loaded.external)
        for name in order:
            loaded.running[name] = self._new_module(chosen[name])
        for module in loaded.running.values():
            self._import_conventions(module)
        loaded.elsewhere = {
            name: spec for name, spec in loaded.discovery.modules.items() if name not in chosen
        }
        self.bus.declare_emitters(
            {name: spec.emits for name, spec in loaded.discovery.modules.items()}
        )
        self.bus.declare_streams(
            {name: spec.manifest.streams for name, spec in loaded.discovery.modules.items()}
        )
        # Proxies for every module's services, also those running here: the local object
        # stands in front of them unless a caller asks for prefer_local=False.
        for spec in loaded.discovery.modules.values():
            declare_remote_services(
                self.registry,
                spec,
                connection=lambda: self.bus.nats,
                timeout=lambda: self.settings.request_timeout,
                propagation=self.propagation,
                instances=lambda: self.find(Instances),  # type: ignore[type-abstract]
                emit=self.bus.emit,
                caller=self.node_id,
                overrides=self.get(ServicesSettings).policies,
            )
        for spec in loaded.elsewhere.values():
            declare_durable_handlers(self.bus, spec.name, spec.package)

    def _refuse_broken_modules(self, settings: ModulesSettings) -> None:
        wanted = [
            problem
            for problem in self.loaded.discovery.problems
            if not problem.modules
            or not any(
                name in settings.exclude or (settings.only and name not in settings.only)
                for name in problem.modules
            )
        ]
        if wanted:
            names = tuple(name for problem in wanted for name in problem.modules)
            raise ModuleError("; ".join(str(problem) for problem in wanted), modules=names)

    def _choose(
        self, settings: ModulesSettings, found: dict[str, ModuleSpec]
    ) -> dict[str, ModuleSpec]:
        for option, names in (
            ("WEBOS_ONLY (--only)", settings.only),
            ("WEBOS_EXCLUDE (--exclude)", settings.exclude),
        ):
            unknown = [name for name in names if name not in found]
            if unknown:
                installed = ", ".join(sorted(found)) or "none"
                raise ConfigError(
                    f"{option} names {', '.join(map(repr, unknown))}, which is not installed. "
                    f"Installed: {installed}"
                )
        chosen = {name: spec for name, spec in found.items() if name not in settings.exclude}
        if settings.only:
            chosen = {name: spec for name, spec in chosen.items() if name in settings.only}
        return chosen

    def _new_module(self, spec: ModuleSpec) -> LoadedModule:
        context = ModuleContext(
            name=spec.name,
            manifest=spec.manifest,
            data_dir=self.settings.data_dir / "modules" / spec.name,
            emitter=self.bus.emit,
        )
        return LoadedModule(spec=spec, context=context)

    def _import_conventions(self, module: LoadedModule) -> None:
        package = module.spec.package
        for convention in self.conventions:
            qualified = f"{package}.{convention.stem}"
            try:
                if importlib.util.find_spec(qualified) is None:
                    continue
                source = importlib.import_module(qualified)
                convention.collect(module, source, self)
            except (ConfigError, ModuleError):
                raise
            except Exception as error:
                module.state = ModuleState.FAILED
                module.error = f"{convention.stem}.py: {error}"
                frames = module_frames(error, module.spec.path)
                summary = (
                    f"module {module.name!r} failed to load {convention.stem}.py: "
                    f"{type(error).__name__}: {error}"
                )
                raise ModuleError(
                    with_frames(summary, frames), modules=(module.name,), frames=frames
                ) from error
        module.state = ModuleState.LOADED

    # -- phase 4 ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Run phases 1-4. A stop signal meanwhile (:meth:`begin_stop`) ends the start: what had
        started stops within the shutdown bound, then :class:`StoppedWhileStarting` is raised."""
        self.load()
        if self._started:
            raise RuntimeError("the kernel is already started")
        self._started = True
        self._stop_clock = StopClock(self.settings.shutdown_timeout)
        task = self._starting = asyncio.current_task()
        try:
            await self._start()
        except asyncio.CancelledError:
            if not self.stopping or task is None:
                raise  # cancelled by someone else: theirs to handle
            task.uncancel()
            log.info("stop requested during start-up: stopping what had started")
            await self.stop()
            raise StoppedWhileStarting("stopped before start-up completed") from None
        finally:
            self._starting = None

    async def _start(self) -> None:
        # Only the gateway creates streams and durable consumers (from the manifests and the
        # code it discovered); other processes bind to what they find.
        self.bus.keeps_streams = self.role is Role.GATEWAY
        if self.bus.in_memory:
            # A unit test's kernel (kernel.testing): its events never leave this process.
            where = "in memory"
        else:
            where = await self._connect_bus()
        for subsystem in self.subsystems:
            self._open.append(subsystem)
            try:
                await subsystem.start(self)
            except Exception as error:
                log.debug("subsystem %r failed to start", subsystem.name, exc_info=True)
                await self.stop()
                raise StartupError(f"{subsystem.name} failed to start: {error}") from error
        for module in self.modules.values():
            module.state = ModuleState.STARTING
            try:
                await call_module_hook(
                    self.plugins, "webos_startup", module.name, module=module.context
                )
            except Exception as error:
                module.state = ModuleState.FAILED
                # A kernel error raised on purpose names its cause (WEBOS_ADMIN_PASSWORD...);
                # anything else is a bug in the module, shown at its own lines. The whole
                # traceback is for DEBUG.
                known = isinstance(error, WebOSError)
                module.error = str(error) if known else f"{type(error).__name__}: {error}"
                log.debug("module %r failed to start", module.name, exc_info=True)
                await self.stop()
                summary = f"module {module.name!r} failed to start: {module.error}"
                frames = () if known else module_frames(error, module.spec.path)
                raise StartupError(with_frames(summary, frames)) from error
            module.state = ModuleState.STARTED
        log.info(
            "kernel started: node=%s modules=%s nats=%s",
            self.node_id,
            ", ".join(self.modules) or "none",
            where,
        )

    async def _connect_bus(self) -> str:
        """Reach NATS and connect the bus; return the server's address for the log."""
        nats = self.get(NatsSettings)
        try:
            url = nats.client_url(self.settings.data_dir)
            # A bounded first contact, the same for every role: one clear line when nobody
            # answers, instead of the bus's client retrying forever.
            await reach(url, self.node_id, timeout=nats.connect_timeout, wait=nats.wait)
        except (ConfigError, NatsUnreachable):
            self._started = False
            raise
        try:
            await self.bus.connect(
                url,
                client_name=self.node_id,
                event_log=self.settings.event_log,
                durable=self.get(DurableSettings),
                propagation=self.propagation,
                settings=self.get(BusSettings),
                replicas=self.get(JetStreamSettings).replicas,
            )
        except ConfigError:
            self._started = False
            raise  # a setting the server refused (WEBOS_JETSTREAM_REPLICAS): it names it
        except Exception as error:
            self._started = False
            raise StartupError(f"cannot connect to NATS at {nats.display_url}: {error}") from error
        return nats.display_url

    # -- stopping, within one bound ----------------------------------------------------------

    def begin_stop(self) -> None:
        """Start the shutdown bound now (a stop signal arrived): what stops from here on, the
        process's own parts and :meth:`stop`, shares what is left of it. A start in progress
        (waiting for NATS, a startup hook) is cancelled. Safe from a signal handler."""
        self._stop_clock.begin()
        task = self._starting
        if task is not None and not task.done():
            # Thread-safe: signal.signal handlers (uvicorn's) run between the loop's steps.
            task.get_loop().call_soon_threadsafe(task.cancel)

    @property
    def stopping(self) -> bool:
        return self._stop_clock.began

    def time_left(self) -> float:
        return self._stop_clock.time_left()

    def cut_off(self, what: str) -> None:
        self._stop_clock.cut(what)

    async def stop(self) -> None:
        """Stop started modules in reverse order, then the subsystems, then close the bus, all
        within one ``WEBOS_SHUTDOWN_TIMEOUT``; log how long it took and what was cut off. Safe
        to call twice."""
        clock = self._stop_clock
        clock.begin()
        was_started = self._started
        # Hooks may use the time work in progress has, and at least half the closing reserve, so
        # that one that hangs still leaves room for closing.
        hooks_until = clock.elapsed() + max(clock.time_left(), clock.reserve / 2)
        for module in reversed(list(self.modules.values())):
            if module.state not in (ModuleState.STARTED, ModuleState.STARTING):
                continue
            hook = call_module_hook(
                self.plugins, "webos_shutdown", module.name, module=module.context
            )
            await self._within(
                hook, hooks_until - clock.elapsed(), f"the shutdown hook of module {module.name!r}"
            )
            module.state = ModuleState.STOPPED
        for subsystem in reversed(self._open):
            await self._within(
                subsystem.stop(), clock.closing_left(), f"stopping subsystem {subsystem.name!r}"
            )
        self._open = []
        for what in await self.bus.close(clock.time_left(), closing=clock.closing_left()):
            clock.cut(what)
        self._started = False
        if was_started:
            clock.report(log)

    async def _within(self, work: Awaitable[object], seconds: float, what: str) -> None:
        try:
            await asyncio.wait_for(work, max(seconds, HAND_BACK_WAIT))
        except TimeoutError:
            self.cut_off(what)
        except Exception:
            log.exception("%s failed", what)

    # -- views -----------------------------------------------------------------------------

    async def readiness(self) -> tuple[bool, list[str]]:
        reasons = []
        for subsystem in self._open:
            problem = await subsystem.check()
            if problem:
                reasons.append(problem)
        if not self.bus.connected:
            reasons.append("not connected to NATS")
        for consumer in self.bus.unbound_consumers():
            reasons.append(f"durable consumer {consumer} waits for the gateway to create it")
        for module in self.modules.values():
            if module.state is not ModuleState.STARTED:
                reasons.append(f"module {module.name!r} is {module.state.value}")
        return not reasons, reasons

    def describe_modules(self) -> list[dict[str, Any]]:
        return [module.describe() for module in self.modules.values()]


def _settings_parts(settings: CoreSettings) -> Iterator[WebOSSettings]:
    """The settings of each package that ``settings`` composes (``KernelSettings.tasks``...)."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, WebOSSettings):
            yield value
