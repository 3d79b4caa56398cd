"""The tasks subsystem running in this process, for ``TaskRef.kiq`` (a task sends through the
kernel that runs it, without a reference to that kernel)."""

from __future__ import annotations

from typing import Any, Protocol

from kernel.errors import NotRunning


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
