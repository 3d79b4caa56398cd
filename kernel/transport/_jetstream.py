"""The kernel's JetStream streams and KV buckets: how many copies each keeps, and their state.

Every stream and bucket the kernel creates (``WEBOS_EVENTS``, ``WEBOS_DLQ``, ``WEBOS_TASKS``, the
``WEBOS_*`` KV buckets, whose streams are ``KV_WEBOS_*``) is created through :func:`add_stream` or
:func:`add_bucket` with ``WEBOS_JETSTREAM_REPLICAS`` copies. Whoever creates one today still does
(the gateway the event streams, any process with tasks the tasks stream, ...); the gateway alone
also brings existing ones to the setting at start (:func:`match_replicas`), so processes started
with another value never pull a stream back and forth.

A server that cannot keep that many copies (a single server, with more than 1; a cluster with
fewer JetStream nodes than asked) refuses, and :class:`ReplicasRefused` says so naming the
setting, instead of a JetStream error code.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from nats.js.api import KeyValueConfig, StreamConfig
from nats.js.errors import APIError

from kernel.errors import ConfigError
from kernel.transport._settings import REPLICAS_VARIABLE as VARIABLE

log = logging.getLogger("webos.transport")

#: What names a kernel stream: its own (``WEBOS_EVENTS``) or a KV bucket's (``KV_WEBOS_...``).
KERNEL_STREAM_PREFIXES = ("WEBOS_", "KV_WEBOS_")
#: JetStream's answers when it cannot place that many copies: replicas on a single server,
#: too few servers with room, no suitable peers.
_PLACEMENT_ERRORS = frozenset({10074, 10023, 10005})


class ReplicasRefused(ConfigError):
    """The NATS server cannot keep ``WEBOS_JETSTREAM_REPLICAS`` copies of a kernel stream."""


def is_kernel_stream(name: str | None) -> bool:
    return bool(name) and str(name).startswith(KERNEL_STREAM_PREFIXES)


def _refused(error: APIError, stream: str | None, replicas: int) -> ReplicasRefused | None:
    if replicas <= 1 or error.err_code not in _PLACEMENT_ERRORS:
        return None
    return ReplicasRefused(
        f"{VARIABLE}={replicas}: the NATS server cannot keep {replicas} copies of stream "
        f"{stream} ({error.description}). Set {VARIABLE} to at most the number of JetStream "
        "servers in the cluster: 1 for a single server"
    )


async def add_stream(js: Any, config: StreamConfig, replicas: int) -> Any:
    """Create ``config`` with ``replicas`` copies; return its ``StreamInfo``."""
    try:
        return await js.add_stream(replace(config, num_replicas=replicas))
    except APIError as error:
        if (refused := _refused(error, config.name, replicas)) is None:
            raise
        raise refused from error


async def add_bucket(js: Any, config: KeyValueConfig, replicas: int) -> Any:
    """Create the KV bucket of ``config`` with ``replicas`` copies; return it."""
    try:
        return await js.create_key_value(replace(config, replicas=replicas))
    except APIError as error:
        if (refused := _refused(error, f"KV_{config.bucket}", replicas)) is None:
            raise
        raise refused from error


async def update_replicas(js: Any, info: Any, replicas: int) -> bool:
    """Give the stream of ``info`` (a ``StreamInfo``) ``replicas`` copies; whether it changed."""
    config = info.config
    had = config.num_replicas or 1
    if had == replicas:
        return False
    try:
        await js.update_stream(replace(config, num_replicas=replicas))
    except APIError as error:
        if (refused := _refused(error, config.name, replicas)) is None:
            raise
        raise refused from error
    # Fewer copies is a choice someone should see made: the old setting may have been the right one.
    level = logging.WARNING if replicas < had else logging.INFO
    log.log(level, "stream %s: %d replicas, was %d (%s)", config.name, replicas, had, VARIABLE)
    return True


async def kernel_streams(js: Any) -> list[Any]:
    """``StreamInfo`` of every kernel stream and bucket on the server, by name."""
    found: list[Any] = []
    offset = 0
    while True:
        page = await js.streams_info(offset)
        if not page:
            break
        offset += len(page)
        found += [info for info in page if is_kernel_stream(info.config.name)]
    # A single server leaves the leader out of the list (not out of one stream's info): ask.
    found = [
        info if info.cluster is not None else await js.stream_info(info.config.name)
        for info in found
    ]
    return sorted(found, key=lambda info: info.config.name)


async def match_replicas(js: Any, replicas: int) -> list[str]:
    """Bring every existing kernel stream and bucket to ``replicas`` copies (the gateway does,
    at start); return the names of those changed."""
    changed = []
    for info in await kernel_streams(js):
        if await update_replicas(js, info, replicas):
            changed.append(info.config.name)
    return changed


def describe_stream(info: Any) -> dict[str, Any]:
    """One kernel stream as ``/api/system/bus`` and ``webos ps`` show it: copies, leader, and each
    other copy's state (current, operations behind). A single server leads alone, no replicas."""
    cluster = info.cluster
    peers = (cluster.replicas if cluster is not None else None) or []
    return {
        "name": info.config.name,
        "replicas": info.config.num_replicas or 1,
        "messages": info.state.messages,
        "bytes": info.state.bytes,
        "leader": cluster.leader if cluster is not None else None,
        "peers": [
            {
                "name": peer.name,
                "current": bool(peer.current),
                "offline": bool(peer.offline),
                "lag": peer.lag or 0,
            }
            for peer in peers
        ],
    }


async def stream_status(js: Any) -> list[dict[str, Any]]:
    """:func:`describe_stream` of every kernel stream and bucket."""
    return [describe_stream(info) for info in await kernel_streams(js)]
