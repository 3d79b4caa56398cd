"""Deployment helpers: NATS users and permissions generated from the module manifests; the
`.env` of compose.yaml with its secrets generated."""

from kernel.deploy._compose_env import (
    ENV_NAME,
    TEMPLATE_NAME,
    ComposeEnv,
    compose_env,
    write_new_file,
)
from kernel.deploy._inspect import ModuleFacts, inspect_modules, module_facts
from kernel.deploy._natsconf import ServerOptions, render_nats_config
from kernel.deploy._permissions import (
    CLI_PERMISSIONS,
    NatsUser,
    Permissions,
    kernel_permissions,
    module_permissions,
    nats_users,
    password_env,
    user_name,
)

__all__ = [
    "CLI_PERMISSIONS",
    "ENV_NAME",
    "TEMPLATE_NAME",
    "ComposeEnv",
    "ModuleFacts",
    "NatsUser",
    "Permissions",
    "ServerOptions",
    "compose_env",
    "inspect_modules",
    "kernel_permissions",
    "module_facts",
    "module_permissions",
    "nats_users",
    "password_env",
    "render_nats_config",
    "user_name",
    "write_new_file",
]
