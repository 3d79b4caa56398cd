"""NATS as the kernel uses it: the embedded server, connecting (one server or a cluster), subject
names, pull consumers, the kernel's streams and their replicas."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.transport._acked import AckedPublisher
    from kernel.transport._client import ConnectionWatch, KernelClient, is_connection_error
    from kernel.transport._connect import NatsUnreachable, connect_once, reach, unreachable_reason
    from kernel.transport._credentials import (
        EMBEDDED_USER,
        NatsCredentials,
        embedded_dir,
        inbox_prefix,
        load_or_create_credentials,
        read_credentials,
    )
    from kernel.transport._direct import deliver_directly
    from kernel.transport._jetstream import (
        KERNEL_STREAM_PREFIXES,
        ReplicasRefused,
        add_bucket,
        add_stream,
        describe_stream,
        is_kernel_stream,
        kernel_streams,
        match_replicas,
        stream_status,
        update_replicas,
    )
    from kernel.transport._limits import PayloadTooLarge, check_size, header_size, max_payload
    from kernel.transport._publish import header_block, publish_block
    from kernel.transport._pull import HAND_BACK_WAIT, PullLoop, retry_delay
    from kernel.transport._requests import request_unless_gone
    from kernel.transport._server import EmbeddedNats, find_nats_server, port_is_free
    from kernel.transport._servers import InvalidNatsUrl, NatsServers, nats_servers
    from kernel.transport._settings import JetStreamSettings, NatsSettings
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
    "KERNEL_STREAM_PREFIXES",
    "AckedPublisher",
    "ConnectionWatch",
    "EmbeddedNats",
    "InvalidNatsUrl",
    "InvalidSubject",
    "JetStreamSettings",
    "KernelClient",
    "NatsCredentials",
    "NatsServers",
    "NatsSettings",
    "NatsUnreachable",
    "PayloadTooLarge",
    "PullLoop",
    "ReplicasRefused",
    "add_bucket",
    "add_stream",
    "check_size",
    "connect_once",
    "covers",
    "deliver_directly",
    "describe_stream",
    "embedded_dir",
    "find_nats_server",
    "header_block",
    "header_size",
    "inbox_prefix",
    "is_connection_error",
    "is_internal_subject",
    "is_kernel_stream",
    "is_kernel_subject",
    "kernel_streams",
    "load_or_create_credentials",
    "match_replicas",
    "max_payload",
    "minimal_cover",
    "nats_servers",
    "normalize_subject",
    "overlap",
    "port_is_free",
    "publish_block",
    "reach",
    "read_credentials",
    "request_unless_gone",
    "retry_delay",
    "stream_status",
    "unreachable_reason",
    "update_replicas",
]
