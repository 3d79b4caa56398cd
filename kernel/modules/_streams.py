"""``[streams.NAME]`` in ``module.toml``: a JetStream stream a module keeps its own state in.

A module never creates or changes a stream itself: a NATS user allowed to would be allowed to
make a stream capture any subject, other modules' traffic included. The module declares it; the
gateway, which keeps the streams, creates it (and brings it to the declaration at each start),
and the module's NATS user may only publish its subjects (they are in its ``emits``), read the
stream's state and read its messages by sequence. So the declaration is checked here, before any
code runs: the name is the module's own, and every subject is one the module emits.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kernel.transport import InvalidSubject, covers, normalize_subject

#: Stream names the kernel keeps for itself (``WEBOS_EVENTS``, ``KV_WEBOS_*``): never a module's.
RESERVED_PREFIXES = ("WEBOS_", "KV_")
_STREAM_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class ModuleStream(BaseModel):
    """One declared stream: the subjects it stores and how much it keeps (0: no limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subjects: tuple[str, ...] = Field(min_length=1, description="Subjects it stores.")
    max_msgs: int = Field(0, ge=0, description="Messages kept; the oldest go first.")
    max_bytes: int = Field(0, ge=0, description="Bytes kept; the oldest messages go first.")
    max_age: float = Field(0, ge=0, description="Seconds a message is kept.")

    @field_validator("subjects")
    @classmethod
    def _subjects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(normalize_subject(subject, allow_wildcards=True) for subject in value)
        except InvalidSubject as error:
            raise ValueError(str(error)) from None


def stream_prefix(module: str) -> str:
    """The module's name in a stream name: ``audit`` -> ``AUDIT``."""
    return module.upper()


def check_streams(module: str, emits: tuple[str, ...], streams: dict[str, ModuleStream]) -> None:
    """Raise ``ValueError`` naming the first stream a module may not declare."""
    own = stream_prefix(module)
    for name, stream in streams.items():
        if (
            not _STREAM_NAME.match(name)
            or name.startswith(RESERVED_PREFIXES)
            or (name != own and not name.startswith(f"{own}_"))
        ):
            raise ValueError(
                f"stream {name!r}: a module's stream is named {own!r} or {own}_<NAME> "
                "(upper-case letters, digits, '_'; never WEBOS_* or KV_*, which are the kernel's)"
            )
        outside = [s for s in stream.subjects if not any(covers(e, s) for e in emits)]
        if outside:
            raise ValueError(
                f"stream {name!r} stores {', '.join(map(repr, outside))}, which the module does "
                f"not emit: a module's stream may store only subjects in its emits "
                f"({', '.join(emits) or 'none'})"
            )
