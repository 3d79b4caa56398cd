"""The tasks subsystem running in this process, for ``TaskRef.kiq`` (a task sends through the
kernel that runs it, without a reference to that kernel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from kernel.auth import Principal
from kernel.errors import NotRunning
from kernel.tasks._mine import MINE_LIMIT, MINE_SCAN, may_read, newest_first

if TYPE_CHECKING:
    from kernel.tasks._store import TaskStatus


class TasksNotRunning(NotRunning):
    """A task was sent with no started kernel in this process."""


class Sender(Protocol):
    async def send(self, ref: Any, args: Any, kwargs: Any) -> Any: ...


_active: list[Sender] = []


def activate(sender: Sender) -> None:
    _active.append(sender)


def deactivate(sender: Sender) -> None:
    if sender in _active:
        _active.remove(sender)


def active_tasks() -> Sender:
    """The started tasks subsystem of this process (``TaskRef.kiq`` sends through it)."""
    if not _active:
        raise TasksNotRunning(
            "cannot send a task: no WebOS kernel is running in this process. Start one "
            "(webos run, webos module run, webos worker, or the 'webos' test fixture), or call "
            "the task function directly"
        )
    return _active[-1]


class TaskRecords:
    """What the system routes read of this process's tasks (``GET /api/system/tasks``): the
    tasks subsystem over NATS, ``MemoryTasks`` in a unit test. A base class, not a Protocol:
    Litestar checks an injected dependency with ``isinstance``."""

    async def status(self, task_id: str) -> TaskStatus | None:
        raise NotImplementedError

    async def recent(self, limit: int) -> list[TaskStatus]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    async def status_for(self, task_id: str, principal: Principal) -> TaskStatus | None:
        """The task's status if ``principal`` may read it (theirs, or ``system.read``); else
        None, as for an unknown task."""
        status = await self.status(task_id)
        return status if status is not None and may_read(principal, status) else None

    async def mine(self, principal: Principal, limit: int = MINE_LIMIT) -> list[TaskStatus]:
        """The tasks ``principal`` started, newest first, among the ``MINE_SCAN`` most recent."""
        if not principal.is_authenticated:
            return []
        found = [s for s in await self.recent(MINE_SCAN) if s.principal == principal.id]
        return newest_first(found)[:limit]
