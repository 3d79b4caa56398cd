"""Background tasks over NATS JetStream: ``@task`` in a module's ``tasks.py``, ``await f.kiq()``.

The caller's principal, trace context and correlation id reach the worker; retries back off;
status, progress and JSON results live in NATS KV; schedules fire once per tick however many
schedulers run. See ``docs/tasks.md``.
"""

from kernel.tasks._context import (
    NotInTask,
    TaskInfo,
    current_correlation_id,
    progress,
    task_info,
)
from kernel.tasks._decorator import TaskOptions, TaskRef, task
from kernel.tasks._schedule import KvScheduleSource, Scheduler, tick_of
from kernel.tasks._store import (
    KvResultBackend,
    StatusStore,
    TaskError,
    TaskState,
    TaskStatus,
    wait_for_status,
)
from kernel.tasks._subsystem import (
    TasksConvention,
    TasksNotRunning,
    TasksSubsystem,
    UnknownTask,
    active_tasks,
)
from kernel.tasks._worker import Worker, WorkerSettings

__all__ = [
    "KvResultBackend",
    "KvScheduleSource",
    "NotInTask",
    "Scheduler",
    "StatusStore",
    "TaskError",
    "TaskInfo",
    "TaskOptions",
    "TaskRef",
    "TaskState",
    "TaskStatus",
    "TasksConvention",
    "TasksNotRunning",
    "TasksSubsystem",
    "UnknownTask",
    "Worker",
    "WorkerSettings",
    "active_tasks",
    "current_correlation_id",
    "progress",
    "task",
    "task_info",
    "tick_of",
    "wait_for_status",
]
