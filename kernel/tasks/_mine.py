"""Who may read a task's status: the principal it runs for, or a holder of ``system.read``.

A task's record names its principal from the identity the worker (or, while it is queued, the
reader of the stream) verified, never from anything the caller sends; so "mine" compares that id
with the caller's verified id. Anyone else is answered as if the task did not exist (404), so an
id does not tell a stranger that a task exists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kernel.auth import Principal, has_permission

if TYPE_CHECKING:
    from kernel.tasks._store import TaskStatus  # taskiq: only where tasks run

SYSTEM_READ = "system.read"
#: ``GET /api/tasks/mine`` answers at most this many tasks: a person's recent work, not a log.
MINE_LIMIT = 50
#: Records read, newest first, to find them (and queued messages, oldest first): each is one
#: JetStream read, so this bounds what a poll of the console's indicator costs.
MINE_SCAN = 300
_EPOCH = datetime.fromtimestamp(0, UTC)


def may_read(principal: Principal, status: TaskStatus) -> bool:
    if has_permission(principal, SYSTEM_READ):
        return True
    return (
        principal.is_authenticated
        and status.principal is not None
        and status.principal == principal.id
    )


def newest_first(records: list[TaskStatus]) -> list[TaskStatus]:
    return sorted(
        records,
        key=lambda r: r.queued_at or r.started_at or r.finished_at or _EPOCH,
        reverse=True,
    )
