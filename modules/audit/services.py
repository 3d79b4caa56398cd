from collections import deque
from typing import Any

from kernel import ModuleContext, service


@service("audit_log")
class AuditLog:
    """The most recent events, newest first. In memory: one per process."""

    def __init__(self, module: ModuleContext) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=module.settings.keep)

    async def record(self, entry: dict[str, Any]) -> None:
        self._entries.appendleft(entry)

    async def recent(self, limit: int, subject: str | None = None) -> list[dict[str, Any]]:
        found = []
        for entry in self._entries:
            if subject is None or _matches(subject, entry["subject"]):
                found.append(entry)
                if len(found) == limit:
                    break
        return found


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
