"""The tasks subsystem running in this process, for ``TaskRef.kiq`` (a task sends through the
kernel that runs it, without a reference to that kernel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from kernel.errors import NotRunning

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
