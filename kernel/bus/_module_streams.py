"""The streams modules declare in ``module.toml`` (``[streams.NAME]``), created by the gateway.

A module's NATS user may not create or change a stream (it could make one capture any subject),
so the process that keeps the kernel's streams creates the modules' too, before any module
starts, and brings an existing one to its declaration (subjects, limits, copies). The
declaration was checked when the manifest was read (``kernel.modules._streams``): the name is the
module's own and the subjects are ones it emits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from kernel.bus._streams import DUPLICATE_WINDOW
from kernel.errors import ConfigError
from kernel.modules import ModuleStream
from kernel.transport import add_stream

log = logging.getLogger("webos.bus")


class ModuleStreamRefused(ConfigError):
    """JetStream refused a stream a module declares (e.g. its subjects overlap another's)."""


@dataclass(frozen=True)
class DeclaredStream:
    module: str
    name: str
    stream: ModuleStream

    def config(self, replicas: int) -> StreamConfig:
        stream = self.stream
        return StreamConfig(
            name=self.name,
            subjects=list(stream.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            # 0 in the manifest is "no limit", which JetStream spells -1 for counts.
            max_msgs=stream.max_msgs or -1,
            max_bytes=stream.max_bytes or -1,
            max_age=stream.max_age,
            duplicate_window=DUPLICATE_WINDOW,
            num_replicas=replicas,
        )


def declared_streams(streams: Mapping[str, Mapping[str, ModuleStream]]) -> list[DeclaredStream]:
    """module -> name -> declaration, flattened in a stable order; a name two modules claim
    (``AUDIT_LOG`` of ``audit`` and of ``audit_log``) is refused: neither may take the other's."""
    found = [
        DeclaredStream(module, name, stream)
        for module, declared in sorted(streams.items())
        for name, stream in sorted(declared.items())
    ]
    owners: dict[str, str] = {}
    for item in found:
        if (other := owners.setdefault(item.name, item.module)) != item.module:
            raise ModuleStreamRefused(
                f"modules {other!r} and {item.module!r} both declare stream {item.name} in "
                "their module.toml: rename one"
            )
    return found


_COMPARED = ("subjects", "max_msgs", "max_bytes", "max_age", "num_replicas")


async def ensure_module_streams(js: Any, declared: list[DeclaredStream], replicas: int) -> None:
    """Create each declared stream, or update one that differs from its declaration."""
    for item in declared:
        wanted = item.config(replicas)
        try:
            try:
                info = await js.stream_info(item.name)
            except NotFoundError:
                await add_stream(js, wanted, replicas)
                log.info("stream %s of module %s created", item.name, item.module)
                continue
            current = info.config
            if any(getattr(current, key) != getattr(wanted, key) for key in _COMPARED):
                await js.update_stream(wanted)
                log.info("stream %s of module %s updated", item.name, item.module)
        except APIError as error:
            raise ModuleStreamRefused(
                f"module {item.module!r}: JetStream refused stream {item.name} declared in its "
                f"module.toml (subjects {', '.join(item.stream.subjects)}): {error.description}"
            ) from error
