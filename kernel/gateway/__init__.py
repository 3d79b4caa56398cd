"""The HTTP side of a kernel process: one Litestar app assembled from the kernel and its modules,
its system routes and its error documents."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.gateway._app import create_app
    from kernel.gateway._problems import exception_handlers
    from kernel.gateway._settings import GatewaySettings
    from kernel.problems import PROBLEM_JSON, problem

__getattr__ = lazy_exports(__name__)
__all__ = ["PROBLEM_JSON", "GatewaySettings", "create_app", "exception_handlers", "problem"]
