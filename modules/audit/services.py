"""The audit log, kept in a JetStream stream of audit's own (``AUDIT``, declared in its
``module.toml`` and created by the gateway): every replica of audit, in whatever process, writes
to and reads the same log, so they all give the same answer.

Each entry is published with its event's id as ``Nats-Msg-Id``: JetStream stores an id once
(within its duplicate window), so an event recorded twice is kept once. The stream keeps the
newest ``max_msgs`` entries (module.toml) and drops the oldest.
"""

import json
from collections import Counter
from typing import Any

from kernel import bus, service

STREAM = "AUDIT"
SUBJECT = "audit.recorded"


@service("audit_log")
class AuditLog:
    """The most recent events, newest first, shared by every replica."""

    async def record(self, entry: dict[str, Any]) -> None:
        js = bus.nats.jetstream()
        await js.publish(SUBJECT, json.dumps(entry).encode(), headers={"Nats-Msg-Id": entry["id"]})

    async def recent(self, limit: int, subject: str | None = None) -> list[dict[str, Any]]:
        """Read back from the newest entry until ``limit`` match (at most ``max_msgs`` reads)."""
        js = bus.nats.jetstream()
        state = (await js.stream_info(STREAM)).state
        found: list[dict[str, Any]] = []
        sequence = state.last_seq
        while sequence >= max(state.first_seq, 1) and len(found) < limit:
            entry = json.loads((await js.get_msg(STREAM, sequence)).data)
            if subject is None or _matches(subject, entry["subject"]):
                found.append(entry)
            sequence -= 1
        return found


@service("audit_greetings")
class Greetings:
    """Greetings per name that this instance heard since it started (``greeter.greeted``)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    async def count(self, name: str) -> None:
        self._counts[name] += 1

    async def counts(self) -> list[dict[str, Any]]:
        """Most greeted first, then by name."""
        ranked = sorted(self._counts.items(), key=lambda item: (-item[1], item[0]))
        return [{"name": name, "count": count} for name, count in ranked]


def _matches(pattern: str, subject: str) -> bool:
    """NATS-style match: ``*`` is one token, a trailing ``>`` is one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    if wanted[-1] == ">":
        head = wanted[:-1]
        return len(tokens) > len(head) and all(
            w in ("*", t) for w, t in zip(head, tokens, strict=False)
        )
    return len(wanted) == len(tokens) and all(
        w in ("*", t) for w, t in zip(wanted, tokens, strict=True)
    )
