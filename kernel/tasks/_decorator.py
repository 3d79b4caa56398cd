"""``@task``: marks a function in a module's ``tasks.py``; the kernel registers it later.

The decorator returns a :class:`TaskRef`, a small object that keeps the function callable as
before (tests call it directly) and adds ``.kiq(...)``, which sends the task through the tasks
subsystem of the running kernel. Importing ``tasks.py`` registers nothing and connects nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import update_wrapper
from typing import Any, Generic, ParamSpec, TypeVar

from kernel.tasks._active import active_tasks

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """What ``@task(...)`` declared. ``None`` means "the kernel's setting"."""

    name: str | None = None
    retries: int | None = None
    backoff: float | None = None
    timeout: float | None = None
    #: Five-field cron, UTC (``"*/15 * * * *"``): run by the scheduler as ``system:scheduler``.
    schedule: str | None = None
    #: Or a fixed interval of whole seconds (``timedelta(seconds=30)``).
    every: timedelta | None = None

    def __post_init__(self) -> None:
        if self.retries is not None and not 0 <= self.retries <= 100:
            raise ValueError("retries must be between 0 and 100")
        if self.backoff is not None and self.backoff <= 0:
            raise ValueError("backoff must be positive")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.schedule is not None and self.every is not None:
            raise ValueError("give either schedule= (cron) or every= (interval), not both")
        if self.schedule is not None and len(self.schedule.split()) != 5:
            raise ValueError(
                f"schedule must be a five-field cron expression, got {self.schedule!r}"
            )
        if self.every is not None:
            seconds = self.every.total_seconds()
            if seconds < 1 or seconds != int(seconds):
                raise ValueError("every= must be a whole number of seconds, at least one")

    @property
    def scheduled(self) -> bool:
        return self.schedule is not None or self.every is not None


class TaskRef(Generic[_P, _R]):
    """A function marked with ``@task``: call it directly, or ``await ref.kiq(...)`` to queue it."""

    def __init__(self, fn: Callable[_P, _R], options: TaskOptions) -> None:
        self.fn = fn
        self.options = options
        self.function_name = options.name or fn.__name__
        update_wrapper(self, fn)  # type: ignore[arg-type]

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return self.fn(*args, **kwargs)

    async def kiq(self, *args: _P.args, **kwargs: _P.kwargs) -> Any:
        """Queue the task; returns taskiq's ``AsyncTaskiqTask`` (``.task_id``, ``.wait_result``).

        The caller's principal, trace context and correlation id travel with it.
        """
        return await active_tasks().send(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<task {self.fn.__module__}.{self.function_name}>"


def task(
    fn: Callable[_P, _R] | None = None,
    *,
    name: str | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    timeout: float | None = None,
    schedule: str | None = None,
    every: timedelta | None = None,
) -> Any:
    """Mark a function of ``tasks.py`` as a task (``@task`` or ``@task(retries=2, ...)``).

    ``retries``: extra attempts after a failure (default ``WEBOS_TASKS_RETRIES``), spaced by
    ``backoff`` seconds doubling each time. ``timeout``: seconds one attempt may run.
    ``schedule``: cron (UTC) or ``every``: an interval; scheduled tasks take no arguments.
    """
    options = TaskOptions(
        name=name,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        schedule=schedule,
        every=every,
    )

    def mark(function: Callable[_P, _R]) -> TaskRef[_P, _R]:
        if isinstance(function, TaskRef):
            raise TypeError(f"{function!r} is already a task")
        return TaskRef(function, options)

    return mark(fn) if fn is not None else mark


def module_task_name(
    ref: TaskRef[Any, Any], packages: Mapping[str, str], missing: Callable[[str], Exception]
) -> str:
    """``<module>.<function>`` of ``ref``, from ``packages`` (package -> module name of every
    discovered module); ``missing(message)`` is raised for a function of no module's tasks.py."""
    package = ref.fn.__module__.rpartition(".")[0]
    module = packages.get(package)
    if module is None:
        known = ", ".join(sorted(packages.values())) or "none"
        raise missing(
            f"{ref!r} is not in a module's tasks.py that this kernel discovered. Modules: {known}"
        )
    return f"{module}.{ref.function_name}"
