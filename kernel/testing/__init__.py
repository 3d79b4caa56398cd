"""Test helpers for WebOS users (and WebOS itself): real NATS, real HTTP, a fresh kernel per test.

The pytest plugin in :mod:`kernel.testing.plugin` is registered automatically; it provides the
``nats_server`` (session) and ``webos`` (per test) fixtures.
"""

from kernel.testing._harness import (
    KernelHarness,
    MessageCollector,
    ReceivedMessage,
    RunningKernel,
    forget_modules,
    purge_jetstream,
    running_kernel,
    write_module,
)
from kernel.testing._processes import ModuleProcess
from kernel.testing._s3 import S3Server, moto_s3_server

__all__ = [
    "KernelHarness",
    "MessageCollector",
    "ModuleProcess",
    "ReceivedMessage",
    "RunningKernel",
    "S3Server",
    "forget_modules",
    "moto_s3_server",
    "purge_jetstream",
    "running_kernel",
    "write_module",
]
