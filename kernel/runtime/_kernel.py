"""The kernel: loads modules in explicit phases and starts and stops them around the bus.

Phases, each run once and in order (like Django's ``Apps.populate``):
1. discover modules and choose the ones this process runs (``only``/``exclude``);
2. order them by ``depends`` (missing modules and cycles stop here, before any import);
3. import each module's convention files and collect what they declare;
4. ``start()``: connect the bus, then run startup hooks in dependency order.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import pluggy

from kernel.bus import Bus, DurableSettings, declare_durable_handlers
from kernel.bus import bus as default_bus
from kernel.errors import ConfigError, ModuleError, StartupError
from kernel.hooks import call_module_hook, new_plugin_manager
from kernel.modules import (
    Convention,
    Discovery,
    LoadedModule,
    ModuleContext,
    ModuleSpec,
    ModuleState,
    discover,
    start_order,
)
from kernel.registry import Registry, declare_remote_services
from kernel.registry import registry as default_registry
from kernel.runtime._defaults import kernel_conventions, kernel_subsystems
from kernel.runtime._subsystem import Subsystem
from kernel.settings import KernelSettings

log = logging.getLogger("webos.kernel")


class Kernel:
    """One process's modules, bus and registry. Build a fresh one per test."""

    def __init__(
        self,
        settings: KernelSettings,
        *,
        bus: Bus | None = None,
        registry: Registry | None = None,
        conventions: Sequence[Convention] | None = None,
        subsystems: Sequence[Subsystem] | None = None,
        role: str = "gateway",
    ) -> None:
        self.settings = settings
        self.bus = bus if bus is not None else default_bus
        self.registry = registry if registry is not None else default_registry
        self.conventions: list[Convention] = list(
            conventions if conventions is not None else kernel_conventions()
        )
        self.subsystems: list[Subsystem] = list(
            subsystems if subsystems is not None else kernel_subsystems()
        )
        self.role = role
        # pid alone is not unique: tests run several kernels in one process.
        self.node_id = f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.plugins: pluggy.PluginManager = new_plugin_manager()
        self.discovery = Discovery()
        self.modules: dict[str, LoadedModule] = {}
        self.external: set[str] = set()
        #: Discovered modules that run in other processes: their services are proxied and
        #: (in the gateway) their routes forwarded.
        self.elsewhere: dict[str, ModuleSpec] = {}
        self._loading = False
        self._loaded = False
        self._started = False
        self._open: list[Subsystem] = []

    # -- phases 1-3 ------------------------------------------------------------------------

    def load(self) -> None:
        """Discover, order and import modules. Idempotent; not re-entrant."""
        if self._loaded:
            return
        if self._loading:
            raise RuntimeError("Kernel.load() isn't reentrant")
        self._loading = True
        try:
            self.bus.reset()
            self.registry.clear()
            self.discovery = discover(self.settings.modules_path)
            self._refuse_broken_modules()
            chosen = self._choose(self.discovery.modules)
            self.external = {
                need
                for spec in chosen.values()
                for need in spec.manifest.depends
                if need not in chosen and need in self.discovery.modules
            }
            depends = {name: spec.manifest.depends for name, spec in chosen.items()}
            order = start_order(depends, available_elsewhere=self.external)
            for name in order:
                self.modules[name] = self._new_module(chosen[name])
            for module in self.modules.values():
                self._import_conventions(module)
            self.elsewhere = {
                name: spec for name, spec in self.discovery.modules.items() if name not in chosen
            }
            for spec in self.elsewhere.values():
                declare_remote_services(self, spec)
                declare_durable_handlers(self.bus, spec.name, spec.package)
            self._loaded = True
        finally:
            self._loading = False

    def _refuse_broken_modules(self) -> None:
        settings = self.settings
        wanted = [
            problem
            for problem in self.discovery.problems
            if not problem.modules
            or not any(
                name in settings.exclude or (settings.only and name not in settings.only)
                for name in problem.modules
            )
        ]
        if wanted:
            names = tuple(name for problem in wanted for name in problem.modules)
            raise ModuleError("; ".join(str(problem) for problem in wanted), modules=names)

    def _choose(self, found: dict[str, ModuleSpec]) -> dict[str, ModuleSpec]:
        settings = self.settings
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
            bus=self.bus,
            registry=self.registry,
            data_dir=self.settings.data_dir / "modules" / spec.name,
        )
        return LoadedModule(spec=spec, context=context)

    def describe_elsewhere(self, spec: ModuleSpec) -> LoadedModule:
        """A module of another process, as this one sees it (for routes and schemas only)."""
        return self._new_module(spec)

    def subsystem(self, name: str) -> Any:
        for subsystem in self.subsystems:
            if subsystem.name == name:
                return subsystem
        raise LookupError(f"no subsystem {name!r} in this kernel")

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
                raise ModuleError(
                    f"module {module.name!r} failed to load {convention.stem}.py: "
                    f"{type(error).__name__}: {error}",
                    modules=(module.name,),
                ) from error
        module.state = ModuleState.LOADED

    # -- phase 4 ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.load()
        if self._started:
            raise RuntimeError("the kernel is already started")
        self._started = True
        try:
            await self.bus.connect(
                self.settings.effective_nats_url,
                client_name=self.node_id,
                event_log=self.settings.event_log,
                durable=DurableSettings(
                    max_deliver=self.settings.durable_max_deliver,
                    backoff=self.settings.durable_backoff,
                    backoff_max=self.settings.durable_backoff_max,
                    ack_wait=self.settings.durable_ack_wait,
                ),
            )
        except Exception as error:
            self._started = False
            raise StartupError(
                f"cannot connect to NATS at {self.settings.display_nats_url}: {error}"
            ) from error
        for subsystem in self.subsystems:
            self._open.append(subsystem)
            try:
                await subsystem.start(self)
            except Exception as error:
                log.exception("subsystem %r failed to start", subsystem.name)
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
                module.error = f"{type(error).__name__}: {error}"
                log.exception("module %r failed to start", module.name)
                await self.stop()
                raise StartupError(
                    f"module {module.name!r} failed to start: {type(error).__name__}: {error}"
                ) from error
            module.state = ModuleState.STARTED
        log.info(
            "kernel started: node=%s modules=%s nats=%s",
            self.node_id,
            ", ".join(self.modules) or "none",
            self.settings.display_nats_url,
        )

    async def stop(self) -> None:
        """Stop started modules in reverse order, then close the bus. Safe to call twice."""
        for module in reversed(list(self.modules.values())):
            if module.state not in (ModuleState.STARTED, ModuleState.STARTING):
                continue
            try:
                await call_module_hook(
                    self.plugins, "webos_shutdown", module.name, module=module.context
                )
            except Exception:
                log.exception("module %r failed to shut down cleanly", module.name)
            module.state = ModuleState.STOPPED
        for subsystem in reversed(self._open):
            try:
                await subsystem.stop()
            except Exception:
                log.exception("subsystem %r failed to stop cleanly", subsystem.name)
        self._open = []
        await self.bus.close(self.settings.shutdown_timeout)
        self._started = False

    # -- views -----------------------------------------------------------------------------

    async def readiness(self) -> tuple[bool, list[str]]:
        reasons = []
        for subsystem in self._open:
            problem = await subsystem.check()
            if problem:
                reasons.append(problem)
        if not self.bus.connected:
            reasons.append("not connected to NATS")
        for module in self.modules.values():
            if module.state is not ModuleState.STARTED:
                reasons.append(f"module {module.name!r} is {module.state.value}")
        return not reasons, reasons

    def describe_modules(self) -> list[dict[str, Any]]:
        return [module.describe() for module in self.modules.values()]
