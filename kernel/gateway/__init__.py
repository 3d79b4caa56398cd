"""The HTTP gateway: one Litestar app assembled from the kernel and its modules."""

from kernel.gateway._app import create_app, module_router
from kernel.gateway._problems import PROBLEM_JSON, problem
from kernel.gateway._serve import app_from_environment, nats_for, run_gateway
from kernel.gateway._standalone import run_modules, serve_modules

__all__ = [
    "PROBLEM_JSON",
    "app_from_environment",
    "create_app",
    "module_router",
    "nats_for",
    "problem",
    "run_gateway",
    "run_modules",
    "serve_modules",
]
