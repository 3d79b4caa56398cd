"""Background tasks over NATS JetStream: ``@task`` in a module's ``tasks.py``, ``await f.kiq()``.

The caller's principal, trace context and correlation id reach the worker; retries back off;
status, progress and JSON results live in NATS KV; schedules fire once per tick however many
schedulers run. See ``docs/tasks.md``.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.context import current_correlation_id
    from kernel.tasks._active import (
        Sender,
        TaskRecords,
        TasksNotRunning,
        activate,
        active_tasks,
        deactivate,
    )
    from kernel.tasks._context import NotInTask, TaskInfo, progress, task_info
    from kernel.tasks._decorator import TaskOptions, TaskRef, task
    from kernel.tasks._memory import MemoryTask, MemoryTasks, TaskNotInThisKernel
    from kernel.tasks._mine import MINE_LIMIT, may_read
    from kernel.tasks._results import KvResultBackend
    from kernel.tasks._schedule import KvScheduleSource, Scheduler, tick_of
    from kernel.tasks._settings import TasksSettings
    from kernel.tasks._store import (
        StatusStore,
        TaskError,
        TaskState,
        TaskStatus,
        wait_for_status,
    )
    from kernel.tasks._subsystem import (
        TasksConvention,
        TasksSubsystem,
        UndeclaredTaskTarget,
        UnknownTask,
    )
    from kernel.tasks._worker import BoundTask, Worker

__getattr__ = lazy_exports(__name__)
__all__ = [
    "MINE_LIMIT",
    "BoundTask",
    "KvResultBackend",
    "KvScheduleSource",
    "MemoryTask",
    "MemoryTasks",
    "NotInTask",
    "Scheduler",
    "Sender",
    "StatusStore",
    "TaskError",
    "TaskInfo",
    "TaskNotInThisKernel",
    "TaskOptions",
    "TaskRecords",
    "TaskRef",
    "TaskState",
    "TaskStatus",
    "TasksConvention",
    "TasksNotRunning",
    "TasksSettings",
    "TasksSubsystem",
    "UndeclaredTaskTarget",
    "UnknownTask",
    "Worker",
    "activate",
    "active_tasks",
    "current_correlation_id",
    "deactivate",
    "may_read",
    "progress",
    "task",
    "task_info",
    "tick_of",
    "wait_for_status",
]
