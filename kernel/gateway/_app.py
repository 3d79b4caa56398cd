"""The one place that assembles the gateway's Litestar app from a kernel."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from kernel.context import current_module, current_traceparent
from kernel.gateway._forward import forwarding
from kernel.gateway._problems import exception_handlers
from kernel.gateway._system import probe_handlers, system_router
from kernel.hooks import has_hook
from kernel.modules import LoadedModule, RouterConvention
from kernel.runtime import Kernel


def _trace_context(app: ASGIApp) -> ASGIApp:
    # Carry an incoming W3C traceparent into events this request emits.
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        traceparent = next(
            (value.decode("latin-1") for key, value in scope["headers"] if key == b"traceparent"),
            None,
        )
        token = current_traceparent.set(traceparent)
        try:
            await app(scope, receive, send)
        finally:
            current_traceparent.reset(token)

    return middleware


def module_router(module: LoadedModule, *, forward: Any = None) -> Router:
    """Mount a module's handlers under ``/api/<module>`` with its context injectable.

    With ``forward`` (a module running elsewhere: ``forwarding(kernel, name)``, a middleware)
    every request is answered by it instead; the handlers serve routing and the schema.
    """
    context = module.context

    def provide_context() -> Any:
        return context

    async def enter_module(_: Request[Any, Any, Any]) -> None:
        current_module.set(module.name)

    return Router(
        path=f"/api/{module.name}",
        route_handlers=module.route_handlers,
        dependencies={"module": Provide(provide_context, sync_to_thread=False)},
        before_request=None if forward else enter_module,
        middleware=[forward] if forward else [],
        tags=[module.name],
    )


def remote_routers(kernel: Kernel) -> list[Router]:
    """Routers for modules that run in other processes, forwarded over NATS."""
    routers = []
    for spec in kernel.elsewhere.values():
        if "router" not in spec.files:
            continue
        module = kernel.describe_elsewhere(spec)
        RouterConvention().collect(
            module, importlib.import_module(f"{spec.package}.router"), kernel
        )
        if module.route_handlers:
            routers.append(module_router(module, forward=forwarding(kernel, spec.name)))
    return routers


def _lifespan(kernel: Kernel) -> Any:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await kernel.start()
        try:
            yield
        finally:
            await kernel.stop()

    return lifespan


def base_config(kernel: Kernel, *, manage_kernel: bool = True) -> AppConfig:
    settings = kernel.settings
    routers = [module_router(m) for m in kernel.modules.values() if m.route_handlers]
    if kernel.role == "gateway":
        routers += remote_routers(kernel)
    cors = CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None
    return AppConfig(
        route_handlers=[*probe_handlers, system_router, *routers],
        dependencies={"kernel": Provide(lambda: kernel, sync_to_thread=False)},
        exception_handlers=dict(exception_handlers),
        middleware=[_trace_context],
        cors_config=cors,
        lifespan=[_lifespan(kernel)] if manage_kernel else [],
        openapi_config=OpenAPIConfig(title="WebOS gateway", version="0.1.0"),
        request_max_body_size=settings.max_body_size,
        debug=False,
    )


def create_app(kernel: Kernel, *, manage_kernel: bool = True) -> Litestar:
    """Build the gateway app: load modules, let hooks adjust the config, then construct.

    With ``manage_kernel`` the app's lifespan starts and stops the kernel; test harnesses turn it
    off to start the kernel themselves and see its errors directly.
    """
    kernel.load()
    config = base_config(kernel, manage_kernel=manage_kernel)
    for subsystem in kernel.subsystems:
        # Optional: a subsystem that shapes HTTP (auth adds its middleware and guards).
        configure = getattr(subsystem, "configure_app", None)
        if configure is not None:
            config = configure(config, kernel)
    for module in kernel.modules.values():
        if has_hook(kernel.plugins, "webos_configure_app", module.name):
            config = _configure(kernel, module, config)
    return Litestar.from_config(config)


def _configure(kernel: Kernel, module: LoadedModule, config: AppConfig) -> AppConfig:
    # Configuration hooks are synchronous: the app is built before the event loop serves it.
    plugin = kernel.plugins.get_plugin(module.name)
    for impl in kernel.plugins.hook.webos_configure_app.get_hookimpls():
        if impl.plugin is plugin:
            args = {"app_config": config, "module": module.context}
            result = impl.function(**{name: args[name] for name in impl.argnames})
            if not isinstance(result, AppConfig):
                raise TypeError(
                    f"module {module.name!r}: webos_configure_app must return the AppConfig"
                )
            return result
    return config
