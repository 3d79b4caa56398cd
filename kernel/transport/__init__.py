"""NATS as the kernel uses it: the embedded server, connecting, subject names, pull consumers."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.transport._connect import connect_once
    from kernel.transport._pull import PullLoop, retry_delay
    from kernel.transport._server import EmbeddedNats, find_nats_server, port_is_free
    from kernel.transport._settings import NatsSettings
    from kernel.transport._subjects import (
        INTERNAL_SUBJECTS,
        KERNEL_PREFIX,
        InvalidSubject,
        covers,
        is_internal_subject,
        is_kernel_subject,
        minimal_cover,
        normalize_subject,
        overlap,
    )

__getattr__ = lazy_exports(__name__)
__all__ = [
    "INTERNAL_SUBJECTS",
    "KERNEL_PREFIX",
    "EmbeddedNats",
    "InvalidSubject",
    "NatsSettings",
    "PullLoop",
    "connect_once",
    "covers",
    "find_nats_server",
    "is_internal_subject",
    "is_kernel_subject",
    "minimal_cover",
    "normalize_subject",
    "overlap",
    "port_is_free",
    "retry_delay",
]
