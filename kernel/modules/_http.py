"""A module's routes as one Litestar router under ``/api/<module>``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router
from litestar.di import NamedDependency, Provide
from litestar.types import Middleware

from kernel.context import current_module
from kernel.modules._context import LoadedModule, ModuleContext

#: Annotate a route handler parameter ``module: ThisModule`` to receive the module's context.
ThisModule = NamedDependency[ModuleContext]


def module_router(module: LoadedModule, *, forward: Middleware | None = None) -> Router:
    """Mount a module's handlers under ``/api/<module>`` with its context injectable.

    With ``forward`` (a module running elsewhere: the forwarding middleware of
    ``kernel.forwarding``) every request is answered by it instead; the handlers serve routing
    and the schema.
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
