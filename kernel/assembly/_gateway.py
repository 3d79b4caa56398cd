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

from kernel.assembly._banner import announce
from kernel.assembly._http_protocol import CoalescingHttpToolsProtocol
from kernel.assembly._parts import assemble, conventions, module_code_parts
from kernel.assembly._serving import freeze_startup_heap
from kernel.asyncapi import ContractsSubsystem
from kernel.config import CoreSettings
from kernel.console import ConsoleSubsystem, UiConvention
from kernel.contracts import Role
from kernel.errors import StartupError, StoppedWhileStarting
from kernel.explorer import ExplorerSubsystem
from kernel.forwarding import ForwardingClient
from kernel.gateway import create_app
from kernel.livesettings import SettingsEditorSubsystem
from kernel.revocations import RevocationsSubsystem
from kernel.runtime import Kernel
from kernel.settings import KernelSettings
from kernel.transport import EmbeddedNats, embedded_dir, port_is_free

log = logging.getLogger("webos.run")


def gateway_kernel(settings: CoreSettings, **options: Any) -> Kernel:
    """The gateway's preset: every module it runs, the routes of modules running elsewhere
    (forwarded), the ended sessions shared with the other replicas, the console, and the warning
    of typed consumers that would refuse what their producers declare (it sees every module)."""
    subsystems = [
        *module_code_parts(),
        RevocationsSubsystem(),
        SettingsEditorSubsystem(),
        ForwardingClient(),
        ConsoleSubsystem(),
        ContractsSubsystem(),
        ExplorerSubsystem(),
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


class _BoundedServer(uvicorn.Server):
    """uvicorn within the kernel's one shutdown bound: the clock starts at the stop signal, and
    the requests in progress get what is left of it before they are cancelled (and named in the
    kernel's account); the kernel then stops within the rest."""

    def __init__(self, config: uvicorn.Config, kernel: Kernel) -> None:
        super().__init__(config)
        self.kernel = kernel
        self.failure: BaseException | None = None
        #: A stop signal arrived (before start-up completed, a requested stop, not a failure).
        self.signalled = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # The kernel starts here rather than in the app's lifespan: inside uvicorn's capture of
        # stop signals, before it listens, and so that a failure reaches run_gateway as the
        # kernel's own error (one line at the command) instead of uvicorn's traceback and
        # "Application startup failed".
        try:
            await self.kernel.start()
        except StoppedWhileStarting:  # a stop signal: a requested stop, not a failure
            self.should_exit = True
            return
        except Exception as error:
            self.failure = error
            self.should_exit = True
            return
        try:
            await super().startup(sockets)
        except SystemExit:  # uvicorn could not start or listen; it logged why
            await self.kernel.stop()
            if not self.signalled:
                self.failure = self._not_serving()
            self.should_exit = True
            return
        if self.started and not self.should_exit:
            freeze_startup_heap()
            await announce(self.kernel, self.config.host, self.config.port)

    def _not_serving(self) -> StartupError:
        host, port = self.config.host, self.config.port
        if self.lifespan.should_exit:
            return StartupError(
                "the gateway's app failed to start: a startup handler added by a module's "
                "webos_configure_app raised (its traceback is above)"
            )
        if not port_is_free(host, port):  # taken since run_gateway looked
            return _port_in_use(host, port)
        return StartupError(
            f"cannot serve HTTP on {host}:{port} (the reason is above): check WEBOS_HOST and "
            "WEBOS_PORT"
        )

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.signalled = True
        self.kernel.begin_stop()  # cancels a start in progress
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.kernel.begin_stop()
        # uvicorn pauses 0.1 s before it waits; asyncio.timeout takes the float it is given.
        left = max(self.kernel.time_left() - 0.1, 0.0)
        self.config.timeout_graceful_shutdown = left  # type: ignore[assignment]
        await super().shutdown(sockets)
        await self.kernel.stop()


def run_gateway(settings: KernelSettings, *, reload: bool = False) -> int:
    """Serve the gateway until SIGINT/SIGTERM; return the process exit code."""
    settings.validate_for_start()
    port = settings.gateway.port
    if not port_is_free(settings.host, port):
        raise _port_in_use(settings.host, port)
    kernel = gateway_kernel(settings)
    # Loads modules: bad manifests and code stop us before NATS starts. The kernel starts with
    # the server (_BoundedServer.startup), not in the app's lifespan.
    app = create_app(kernel, manage_kernel=False)
    with nats_for(settings) as nats_url:
        if reload:
            os.environ["WEBOS_NATS_URL"] = nats_url
            uvicorn.run(
                "kernel.assembly._reload:app_from_environment",
                factory=True,
                host=settings.host,
                port=port,
                reload=True,
                reload_dirs=[str(settings.modules.modules_path)],
                log_config=None,
                proxy_headers=False,  # see below
                http=CoalescingHttpToolsProtocol,
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
            http=CoalescingHttpToolsProtocol,
        )
        server = _BoundedServer(config, kernel)
        with _stop_signals_return():
            server.run()
        if server.failure is not None:
            raise server.failure  # the command prints it as one line; its traceback at DEBUG
        if not server.started and server.signalled:
            log.info("stopped before start-up completed")
    return 0


def _port_in_use(host: str, port: int) -> StartupError:
    return StartupError(
        f"cannot serve HTTP on {host}:{port}: the port is in use. Set WEBOS_PORT to a free port"
    )
