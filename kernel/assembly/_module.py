"""``webos module run NAME...``: the same modules, in a process of their own.

The process joins the bus, announces itself, serves its services over NATS and answers the
gateway's forwarded HTTP requests. SIGTERM/SIGINT stop it gracefully: no new messages are taken,
work in progress finishes, then it leaves, all within one WEBOS_SHUTDOWN_TIMEOUT counted from the
signal (what outlives it is cut off and named in the log).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Litestar

from kernel.assembly._parts import assemble, conventions, module_code_parts
from kernel.assembly._serving import import_faststream_without_uvicorn, serve_until_stopped
from kernel.config import CoreSettings
from kernel.console import CatalogSubsystem, UiConvention
from kernel.contracts import Role
from kernel.explorer import ExplorerSubsystem
from kernel.forwarding import ForwardingServer, refuse_websockets
from kernel.gateway import create_app
from kernel.runtime import Kernel
from kernel.settings import KernelSettings

log = logging.getLogger("webos.module")


def module_kernel(settings: CoreSettings, **options: Any) -> Kernel:
    """The preset of a module process (``webos module run``): its routes answer the gateway
    over NATS, its ``ui.py`` contributions are guarded; the console's shell is not loaded."""
    # The forwarding server last: it holds early requests until the kernel has started.
    subsystems = [*module_code_parts(), CatalogSubsystem(), ExplorerSubsystem(), ForwardingServer()]
    parts = conventions(routes=True, events=True, ui=UiConvention())
    return assemble(Role.MODULE, settings, subsystems, parts, **options)


def module_process(settings: KernelSettings) -> tuple[Kernel, Litestar]:
    """The kernel of a module process and the app its forwarding server answers with."""
    kernel = module_kernel(settings)
    app = create_app(kernel, manage_kernel=False)
    refuse_websockets(app, kernel.modules)
    kernel.get(ForwardingServer).serve(app)
    return kernel, app


async def serve_modules(settings: KernelSettings) -> None:
    kernel, _ = module_process(settings)
    responder = kernel.get(ForwardingServer)

    def started() -> None:
        responder.open()
        log.info("modules %s running as node %s", ", ".join(kernel.modules), kernel.node_id)

    # The responder stops before the modules' shutdown hooks, which kernel.stop runs first.
    await serve_until_stopped(kernel, started=started, before_stop=responder.stop)


def run_modules(settings: KernelSettings) -> int:
    import_faststream_without_uvicorn()  # a module process serves its HTTP over NATS
    settings.validate_for_start()
    try:
        import uvloop  # the event loop uvicorn gives the gateway (litestar[standard])
    except ImportError:
        asyncio.run(serve_modules(settings))
    else:
        uvloop.run(serve_modules(settings))
    return 0
