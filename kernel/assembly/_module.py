"""``webos module run NAME...``: the same modules, in a process of their own.

The process joins the bus, announces itself, serves its services over NATS and answers the
gateway's forwarded HTTP requests. SIGTERM/SIGINT stop it gracefully: no new messages are taken,
in-flight handlers finish (bounded by WEBOS_SHUTDOWN_TIMEOUT), then it leaves.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from kernel.assembly._presets import build_kernel
from kernel.contracts import Role
from kernel.forwarding import ForwardingServer, refuse_websockets
from kernel.gateway import create_app
from kernel.settings import KernelSettings

log = logging.getLogger("webos.module")


async def serve_modules(settings: KernelSettings) -> None:
    kernel = build_kernel(Role.MODULE, settings)
    app = create_app(kernel, manage_kernel=False)
    refuse_websockets(app, kernel.modules)
    responder = kernel.get(ForwardingServer)
    responder.serve(app)
    await kernel.start()
    responder.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("modules %s running as node %s", ", ".join(kernel.modules), kernel.node_id)
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing in-flight work")
        await responder.stop()  # before the modules' shutdown hooks, which kernel.stop runs first
        await kernel.stop()


def run_modules(settings: KernelSettings) -> int:
    settings.validate_for_start()
    try:
        import uvloop  # the event loop uvicorn gives the gateway (litestar[standard])
    except ImportError:
        asyncio.run(serve_modules(settings))
    else:
        uvloop.run(serve_modules(settings))
    return 0
