"""Test helpers for WebOS users (and WebOS itself): real NATS, real HTTP, a fresh kernel per test.

The pytest plugin in :mod:`kernel.testing.plugin` is registered automatically; it provides the
``nats_server`` (session) and ``webos`` (per test) fixtures, and ``webos_unit`` (per test: a
module's unit tests without a nats-server, an in-memory bus and in-process HTTP).
"""

from kernel.testing._auth import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    USER_PASSWORD,
    add_user,
    bearer,
    login,
    start_with_auth,
)
from kernel.testing._cluster import ClusterNode, NatsCluster
from kernel.testing._data import pattern, pattern_bytes
from kernel.testing._harness import (
    KernelHarness,
    MessageCollector,
    ReceivedMessage,
    RunningKernel,
    forget_modules,
    purge_jetstream,
    running_kernel,
    server_caught_up,
    write_module,
)
from kernel.testing._ports import free_port, free_ports
from kernel.testing._processes import ModuleProcess
from kernel.testing._s3 import S3Server, moto_s3_server
from kernel.testing._s3front import PresignRefused, check_presigned, presign_checking_front
from kernel.testing._unit import UnitApp, UnitHarness, unit_kernel

__all__ = [
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "USER_PASSWORD",
    "ClusterNode",
    "KernelHarness",
    "MessageCollector",
    "ModuleProcess",
    "NatsCluster",
    "PresignRefused",
    "ReceivedMessage",
    "RunningKernel",
    "S3Server",
    "UnitApp",
    "UnitHarness",
    "add_user",
    "bearer",
    "check_presigned",
    "forget_modules",
    "free_port",
    "free_ports",
    "login",
    "moto_s3_server",
    "pattern",
    "pattern_bytes",
    "presign_checking_front",
    "purge_jetstream",
    "running_kernel",
    "server_caught_up",
    "start_with_auth",
    "unit_kernel",
    "write_module",
]
