"""Services across processes: serve this process's services, and proxy those that live elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from kernel.bus import Bus
from kernel.contracts import Host, Instances, Role
from kernel.modules import ModuleSet, ModuleSpec, ServiceOptions
from kernel.propagation import Propagation
from kernel.registry._contracts import method_contracts
from kernel.registry._convention import refuse_unknown_tables
from kernel.registry._guard import ServiceGuard
from kernel.registry._policy import resolve_policies
from kernel.registry._registry import Registry, declared_service
from kernel.registry._remote import RemoteServiceProxy
from kernel.registry._serve import Served, serve_module_services
from kernel.transport import HAND_BACK_WAIT

log = logging.getLogger("webos.registry")


def declare_remote_services(
    registry: Registry,
    spec: ModuleSpec,
    *,
    connection: Callable[[], Any],
    timeout: Callable[[], float],
    propagation: Propagation,
    instances: Callable[[], Instances | None] = lambda: None,
    emit: Callable[..., Coroutine[Any, Any, Any]] | None = None,
    caller: str | None = None,
    overrides: dict[str, ServiceOptions] | None = None,
) -> list[str]:
    """Make ``registry.get`` return proxies for the services a module elsewhere declares.

    Importing ``services.py`` only reads its ``@service`` markers: importing a convention file
    has no side effects, so this is safe for a module that runs in another process. Each
    method's call policy comes from those markers, the module's ``[services.NAME]`` tables and
    this process's ``overrides`` (``WEBOS_SERVICE_POLICIES``);
    ``emit`` publishes the breaker's ``webos.circuit.*`` events, naming ``caller``.
    """
    qualified = f"{spec.package}.services"
    if importlib.util.find_spec(qualified) is None:
        return []
    source = importlib.import_module(qualified)
    declared = []
    names = []  # factories too: their tables are the serving process's to apply
    for value in vars(source).values():
        declaration = declared_service(value)
        if declaration is not None:
            names.append(declaration.name)
        if declaration is None or not isinstance(value, type):
            continue
        contracts = method_contracts(value, strict=False)
        service, policies = resolve_policies(
            value,
            list(contracts),
            declaration.options,
            (
                spec.manifest.services.get(declaration.name),
                (overrides or {}).get(declaration.name),
            ),
        )
        guard = registry.guard(
            declaration.name,
            lambda name=declaration.name, service=service: ServiceGuard(  # type: ignore[misc]
                name, service.breaker, service.concurrency, _publisher(emit, caller)
            ),
        )
        proxy = RemoteServiceProxy(
            declaration.name,
            contracts,
            connection=connection,
            timeout=timeout,
            propagation=propagation,
            module=spec.name,
            instances=instances,
            policies=policies,
            guard=guard,
        )
        registry.declare_remote(declaration.name, proxy)
        declared.append(declaration.name)
    refuse_unknown_tables(spec, names)
    return declared


def _publisher(
    emit: Callable[..., Coroutine[Any, Any, Any]] | None, caller: str | None
) -> Callable[[str, dict[str, Any]], None] | None:
    """The breaker changes state inside a call; its event goes out in a task of its own."""
    if emit is None:
        return None
    pending: set[asyncio.Task[Any]] = set()

    def done(task: asyncio.Task[Any]) -> None:
        pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("circuit event not published: %r", task.exception())

    def publish(subject: str, payload: dict[str, Any]) -> None:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(
            emit(subject, {**payload, "caller": caller})
        )
        pending.add(task)
        task.add_done_callback(done)

    return publish


class ServicesSubsystem:
    """Serves each loaded module's services over NATS (the NATS services protocol)."""

    name = "services"

    def __init__(self) -> None:
        self._served: list[Served] = []
        self._calls: set[asyncio.Task[None]] = set()
        self._host: Host | None = None

    async def start(self, host: Host) -> None:
        strict = host.role is not Role.GATEWAY
        self._host = host
        registry, nats = host.get(Registry), host.get(Bus).nats
        for module in host.get(ModuleSet).running.values():
            services = {name: registry.get(name) for name in module.services}
            try:
                served = await serve_module_services(
                    nats,
                    module.name,
                    module.spec.manifest.version,
                    services,
                    strict=strict,
                    calls=self._calls,
                    propagation=host.get(Propagation),
                    node_id=host.node_id,
                )
            except TypeError as error:
                raise RuntimeError(
                    f"module {module.name!r} cannot run standalone: {error}"
                ) from error
            if served is not None:
                self._served.append(served)

    async def stop(self) -> None:
        """Take no new calls; let those in progress finish (within what is left of the process's
        shutdown bound), then cancel the rest: their callers hear at once that the call was cut
        off (``_serve.py``)."""
        for served in self._served:
            with contextlib.suppress(Exception):
                await served.stop()
        self._served = []
        calls = set(self._calls)
        if not calls:
            return
        left = self._host.time_left() if self._host is not None else 0.0
        _, pending = await asyncio.wait(calls, timeout=left)
        for task in pending:
            task.cancel()
            if self._host is not None:
                self._host.cut_off(task.get_name())
        if pending:
            await asyncio.wait(pending, timeout=HAND_BACK_WAIT)

    async def check(self) -> str | None:
        return None
