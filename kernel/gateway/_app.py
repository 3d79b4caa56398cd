"""The one place that assembles a process's Litestar app from a kernel.

Routes of the modules this process runs are mounted under ``/api/<module>``; the system routes
get what they show as dependencies; every subsystem that shapes HTTP (``ConfiguresApp``) then
adjusts the config, then each module's ``webos_configure_app`` hook, and only then is the app
built: nothing is added to a running app.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.types import ASGIApp, Receive, Scope, Send

from kernel._lazy import absent
from kernel.auth import FORWARDED, innermost_guards, page_headers
from kernel.context import current_traceparent
from kernel.contracts import ConfiguresApp, Instances
from kernel.errors import ModuleError, WebOSError
from kernel.gateway._calls import calls_router
from kernel.gateway._deadline import REQUEST_TIMEOUT_HEADER, run_until_deadline
from kernel.gateway._docs import DOCS_POLICY, SCHEMA_PATH, docs_assets, openapi_config
from kernel.gateway._favicon import favicon_handlers
from kernel.gateway._problems import exception_handlers
from kernel.gateway._settings import GatewaySettings
from kernel.gateway._system import probe_handlers, system_router
from kernel.gateway._tasks import tasks_router
from kernel.hooks import call_module_hook_sync, has_hook
from kernel.modules import LoadedModule, module_frames, module_router, with_frames
from kernel.runtime import Kernel


def _request_context(kernel: Kernel) -> Any:
    """One app-wide layer (each is paid by every request of every route) that carries an incoming
    W3C traceparent into the events a request emits, names a request that stopping cut off
    (uvicorn cancels what still runs at the bound, and the kernel lists it in its account; a
    module process's forwarding server names those it cuts off), and runs the request under its
    deadline (``_deadline.py``)."""
    cap = kernel.settings.request_timeout

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            traceparent = asked = None
            for key, value in scope["headers"]:
                if key == b"traceparent":
                    traceparent = value.decode("latin-1")
                elif key == REQUEST_TIMEOUT_HEADER:
                    asked = value
            token = current_traceparent.set(traceparent)
            try:
                await run_until_deadline(app, scope, receive, send, asked=asked, cap=cap)
            except asyncio.CancelledError:
                if kernel.stopping and not scope.get(FORWARDED):
                    kernel.cut_off(f"HTTP {scope.get('method', '')} {scope['path']}")
                raise
            finally:
                current_traceparent.reset(token)

        return middleware

    return wrap


def _lifespan(kernel: Kernel) -> Any:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await kernel.start()
        try:
            yield
        finally:
            await kernel.stop()

    return lifespan


def _provide(value: Any) -> Provide:
    return Provide(lambda: value, sync_to_thread=False, use_cache=True)


def base_config(kernel: Kernel, *, manage_kernel: bool = True) -> AppConfig:
    settings = kernel.get(GatewaySettings)
    routers = [module_router(m) for m in kernel.modules.values() if m.route_handlers]
    cors = CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None
    return AppConfig(
        route_handlers=[
            *probe_handlers,
            *favicon_handlers,
            system_router,
            tasks_router,
            calls_router,
            *routers,
            docs_assets(),
        ],
        dependencies={
            "readiness": _provide(kernel.readiness),
            "modules": _provide(kernel.describe_modules),
            "bus": _provide(kernel.bus),
            "registry": _provide(kernel.registry),
            # Looked up per call: the node table's subsystem may be absent (an embedded kernel).
            "instances": Provide(
                lambda: kernel.find(Instances),  # type: ignore[type-abstract]
                sync_to_thread=False,
            ),
            "module_set": _provide(kernel.loaded),
            "request_timeout": _provide(kernel.settings.request_timeout),
        },
        exception_handlers=dict(exception_handlers),
        middleware=[_request_context(kernel), page_headers(SCHEMA_PATH, DOCS_POLICY)],
        cors_config=cors,
        lifespan=[_lifespan(kernel)] if manage_kernel else [],
        openapi_config=openapi_config("WebOS gateway", "0.1.0"),
        request_max_body_size=settings.max_body_size,
        debug=False,
    )


def create_app(kernel: Kernel, *, manage_kernel: bool = True) -> Litestar:
    """Build the app: load modules, let subsystems and hooks adjust the config, then construct.

    With ``manage_kernel`` the app's lifespan starts and stops the kernel; test harnesses turn it
    off to start the kernel themselves and see its errors directly.
    """
    kernel.load()
    config = base_config(kernel, manage_kernel=manage_kernel)
    for subsystem in kernel.subsystems:
        if isinstance(subsystem, ConfiguresApp):
            config = subsystem.configure_app(config, kernel)
    for module in kernel.modules.values():
        if has_hook(kernel.plugins, "webos_configure_app", module.name):
            config = _configure(kernel, module, config)
    innermost_guards(config)
    return _construct(config)


def _construct(config: AppConfig) -> Litestar:
    # Litestar tries two optional imports whatever the app holds: its OpenTelemetry plugin (to
    # move a bare OTel middleware into one; ours comes as the plugin, and only when spans are
    # recorded) and its attrs schema plugin (for attrs classes in the OpenAPI document). They
    # load wrapt, the ASGI instrumentation and attrs: 2-3 MB of peak RSS per process. Both
    # stay hidden only while nothing imported them: the modules are loaded by now, so a route
    # with an attrs class has imported attrs, and recording spans has imported the OTel plugin.
    with absent("litestar.plugins.opentelemetry"), absent("attr"):
        return Litestar.from_config(config)


def _configure(kernel: Kernel, module: LoadedModule, config: AppConfig) -> AppConfig:
    # Configuration hooks are synchronous: the app is built before the event loop serves it.
    try:
        result = call_module_hook_sync(
            kernel.plugins,
            "webos_configure_app",
            module.name,
            app_config=config,
            module=module.context,
        )
    except WebOSError:
        raise  # raised on purpose: its message names the cause
    except Exception as error:
        frames = module_frames(error, module.spec.path)
        summary = f"module {module.name!r}: webos_configure_app failed: {type(error).__name__}: "
        raise ModuleError(
            with_frames(f"{summary}{error}", frames), modules=(module.name,), frames=frames
        ) from error
    if not isinstance(result, AppConfig):
        raise ModuleError(
            f"module {module.name!r}: webos_configure_app must return the AppConfig",
            modules=(module.name,),
        )
    return result
