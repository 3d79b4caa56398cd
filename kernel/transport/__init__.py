"""NATS as the kernel uses it: the embedded server, connecting, subject names, pull consumers."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.transport._acked import AckedPublisher
    from kernel.transport._connect import connect_once
    from kernel.transport._credentials import (
        EMBEDDED_USER,
        NatsCredentials,
        embedded_dir,
        inbox_prefix,
        inbox_prefix_for,
        load_or_create_credentials,
        read_credentials,
        url_user,
    )
    from kernel.transport._limits import PayloadTooLarge, check_size, header_size, max_payload
    from kernel.transport._pull import HAND_BACK_WAIT, PullLoop, retry_delay
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
    "EMBEDDED_USER",
    "HAND_BACK_WAIT",
    "INTERNAL_SUBJECTS",
    "KERNEL_PREFIX",
    "AckedPublisher",
    "EmbeddedNats",
    "InvalidSubject",
    "NatsCredentials",
    "NatsSettings",
    "PayloadTooLarge",
    "PullLoop",
    "check_size",
    "connect_once",
    "covers",
    "embedded_dir",
    "find_nats_server",
    "header_size",
    "inbox_prefix",
    "inbox_prefix_for",
    "is_internal_subject",
    "is_kernel_subject",
    "load_or_create_credentials",
    "max_payload",
    "minimal_cover",
    "normalize_subject",
    "overlap",
    "port_is_free",
    "read_credentials",
    "retry_delay",
    "url_user",
]
