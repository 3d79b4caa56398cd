"""``webos run``: the embedded NATS server (when no URL is set) around the gateway's HTTP server."""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn

from kernel.assembly._parts import assemble, conventions, module_code_parts
from kernel.assembly._serving import nats_reached
from kernel.config import CoreSettings
from kernel.console import ConsoleSubsystem, UiConvention
from kernel.contracts import Role
from kernel.errors import StartupError
from kernel.forwarding import ForwardingClient
from kernel.gateway import create_app
from kernel.logs import configure_logging
from kernel.revocations import RevocationsSubsystem
from kernel.runtime import Kernel
from kernel.settings import KernelSettings, load_settings
from kernel.transport import EmbeddedNats, embedded_dir, port_is_free

log = logging.getLogger("webos.run")


def gateway_kernel(settings: CoreSettings, **options: Any) -> Kernel:
    """The gateway's preset: every module it runs, the routes of modules running elsewhere
    (forwarded), the ended sessions shared with the other replicas, and the console."""
    subsystems = [
        *module_code_parts(),
        RevocationsSubsystem(),
        ForwardingClient(),
        ConsoleSubsystem(),
    ]
    parts = conventions(routes=True, events=True, ui=UiConvention())
    return assemble(Role.GATEWAY, settings, subsystems, parts, **options)


@contextmanager
def nats_for(settings: KernelSettings) -> Iterator[str]:
    """Yield the NATS URL to use, running the embedded server for the duration if needed."""
    nats = settings.nats
    if not nats.embedded:
        yield nats.effective_url
        return
    folder = embedded_dir(settings.data_dir)
    server = EmbeddedNats(nats.port, folder, monitor_port=nats.monitor_port)
    server.start()
    log.info(
        "embedded nats-server (JetStream) on %s, data and credentials in %s",
        server.address,
        server.data_dir,
    )
    try:
        yield server.url
    finally:
        server.stop()
        log.info("embedded nats-server stopped")


@contextmanager
def _stop_signals_return() -> Iterator[None]:
    # uvicorn re-raises the signal it caught once it has shut down gracefully; with the default
    # actions that would kill us (SIGTERM) or unwind as an error (SIGINT) before the embedded
    # nats-server is stopped. Once shut down, a stop signal is a normal exit.
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stop_signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _QuietWhenSignalled(logging.Filter):
    def __init__(self, server: _BoundedServer) -> None:
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.server.signalled and record.levelno >= logging.ERROR)


class _BoundedServer(uvicorn.Server):
    """uvicorn within the kernel's one shutdown bound: the clock starts at the stop signal, and
    the requests in progress get what is left of it before they are cancelled (and named in the
    kernel's account); the kernel then stops within the rest."""

    def __init__(self, config: uvicorn.Config, kernel: Kernel) -> None:
        super().__init__(config)
        self.kernel = kernel
        #: A stop signal arrived (before start-up completed, a requested stop, not a failure).
        self.signalled = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.signalled = True
        self.kernel.begin_stop()  # cancels a start in progress
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # A stop signal during the kernel's start makes the app's start-up fail (the kernel
        # stopped what had started): uvicorn would log that as an error with a traceback, then
        # exit 3. It is a requested stop: say nothing more, and let run_gateway return.
        quiet = _QuietWhenSignalled(self)
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(quiet)
        try:
            await super().startup(sockets)
        except SystemExit:
            if not self.signalled:
                raise
            self.should_exit = True
        finally:
            uvicorn_log.removeFilter(quiet)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.kernel.begin_stop()
        # uvicorn pauses 0.1 s before it waits; asyncio.timeout takes the float it is given.
        left = max(self.kernel.time_left() - 0.1, 0.0)
        self.config.timeout_graceful_shutdown = left  # type: ignore[assignment]
        await super().shutdown(sockets)


def app_from_environment() -> Any:
    """uvicorn factory for ``--reload``: every reloaded worker builds its app from settings."""
    settings = load_settings()
    configure_logging(settings)
    return create_app(gateway_kernel(settings))


def run_gateway(settings: KernelSettings, *, reload: bool = False) -> int:
    """Serve the gateway until SIGINT/SIGTERM; return the process exit code."""
    settings.validate_for_start()
    port = settings.gateway.port
    if not port_is_free(settings.host, port):
        raise StartupError(
            f"cannot serve HTTP on {settings.host}:{port}: the port is in use. "
            "Set WEBOS_PORT to a free port"
        )
    kernel = gateway_kernel(settings)
    app = create_app(kernel)  # loads modules: bad manifests stop us before NATS starts
    nats = settings.nats
    # NATS elsewhere: reach it before the HTTP server starts, so that "cannot reach NATS" is
    # one line and a stop signal while waiting for it ends the process (uvicorn would hold
    # both until its application start-up returns).
    if not nats.embedded and not nats_reached(
        nats.client_url(settings.data_dir),
        kernel.node_id,
        timeout=nats.connect_timeout,
        wait=nats.wait,
    ):
        log.info("stopped before start-up completed")
        return 0
    with nats_for(settings) as nats_url:
        if reload:
            os.environ["WEBOS_NATS_URL"] = nats_url
            uvicorn.run(
                "kernel.assembly._gateway:app_from_environment",
                factory=True,
                host=settings.host,
                port=port,
                reload=True,
                reload_dirs=[str(settings.modules.modules_path)],
                log_config=None,
                proxy_headers=False,  # see below
            )
            return 0
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=int(settings.shutdown_timeout),  # see _BoundedServer
            # uvicorn would take the client address from X-Forwarded-For sent by any loopback
            # peer; the security subsystem reads it, from WEBOS_TRUSTED_PROXIES only.
            proxy_headers=False,
        )
        server = _BoundedServer(config, kernel)
        with _stop_signals_return():
            server.run()
        if not server.started and server.signalled:
            log.info("stopped before start-up completed")
            return 0
        if not server.started:
            failed = [m for m in kernel.modules.values() if m.error]
            detail = "; ".join(f"{m.name}: {m.error}" for m in failed) or "see the log above"
            raise StartupError(f"the gateway did not start: {detail}")
    return 0
