"""Tasks without NATS: ``ref.kiq()`` runs the task in this process, for module unit tests.

``kernel.testing``'s unit kernel activates a :class:`MemoryTasks` instead of the tasks
subsystem. A task sent there runs as on the real worker, minus the network:

- it is scheduled, never run inline: the sender continues first, as over JetStream;
- arguments go through JSON as on the wire (what could not be sent fails at ``kiq``), and
  taskiq's ``Receiver.run_task`` runs the function (argument parsing, ``timeout``);
- the sender's context travels only through the labels (``outgoing_labels``), restored by
  ``restore_context`` in a fresh context: the principal, trace and correlation id reach the
  task as they would a worker, and nothing else of the sender's does;
- ``task_info()`` and ``progress()`` work; a failure is retried at once (no backoff sleeps, the
  same number of attempts) and the last one recorded as failed;
- ``kiq`` returns a handle whose ``wait_result()`` returns taskiq's ``TaskiqResult``; statuses
  answer ``GET /api/system/tasks/{id}``.

Only tasks of modules this kernel started run here: another module's task would run in another
process, so sending one fails with :class:`TaskNotInThisKernel`. Schedules do not fire.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from typing import TYPE_CHECKING, Any

from taskiq import InMemoryBroker, TaskiqMessage, TaskiqResult
from taskiq.receiver import Receiver

from kernel.auth import current_principal
from kernel.errors import NotRunning
from kernel.propagation import HEADER_CORRELATION, HEADER_TRACEPARENT
from kernel.tasks._active import TaskRecords
from kernel.tasks._context import TaskInfo, bind_run, outgoing_labels, restore_context
from kernel.tasks._decorator import module_task_name
from kernel.tasks._store import TaskState, TaskStatus, now, to_json_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kernel.propagation import Propagation
    from kernel.tasks._decorator import TaskRef
    from kernel.tasks._worker import BoundTask


class TaskNotInThisKernel(NotRunning):
    """An in-memory kernel was asked to run a task of a module it did not start."""


class MemoryTask:
    """What ``kiq`` returns in memory: ``task_id`` and ``await wait_result()``, as taskiq's
    ``AsyncTaskiqTask`` offers, without polling."""

    def __init__(self, task_id: str, done: asyncio.Future[TaskiqResult[Any]]) -> None:
        self.task_id = task_id
        self._done = done

    async def is_ready(self) -> bool:
        return self._done.done()

    async def wait_result(
        self, check_interval: float = 0.0, timeout: float = -1.0, with_logs: bool = False
    ) -> TaskiqResult[Any]:
        """The outcome once the last attempt ended (``timeout`` < 0: no bound)."""
        shielded = asyncio.shield(self._done)
        return await (shielded if timeout < 0 else asyncio.wait_for(shielded, timeout))


class MemoryTasks(TaskRecords):
    """Runs the tasks of a kernel's started modules in its event loop (see the module doc)."""

    def __init__(
        self,
        tasks: Mapping[str, BoundTask],
        packages: Mapping[str, str],
        *,
        propagation: Propagation,
    ) -> None:
        self.tasks = dict(tasks)
        self._packages = dict(packages)
        self._propagation = propagation
        self._receiver = Receiver(InMemoryBroker(), run_startup=False, max_async_tasks=100)
        self._records: dict[str, TaskStatus] = {}
        self._runs: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.counts = {"succeeded": 0, "failed": 0, "retried": 0}

    # -- what TaskRef.kiq and the system routes ask ----------------------------------------

    async def send(self, ref: TaskRef[Any, Any], args: Any, kwargs: Any) -> MemoryTask:
        name = self.name_of(ref)
        bound = self.tasks.get(name)
        if bound is None:
            raise TaskNotInThisKernel(
                f"cannot run task {name!r} in memory: its module {name.partition('.')[0]!r} "
                "is not started in this unit kernel (its worker would be another process). "
                "Start that module too, or use the 'webos' fixture with tasks_worker=True"
            )
        try:
            wire_args, wire_kwargs = to_json_value(list(args)), to_json_value(dict(kwargs))
        except TypeError as error:
            raise TypeError(f"cannot send task {name!r}: {error}") from None
        labels = outgoing_labels(self._propagation)
        if bound.ref.options.timeout is not None:
            labels["timeout"] = str(bound.ref.options.timeout)
        message = TaskiqMessage(
            task_id=uuid.uuid4().hex,
            task_name=name,
            labels=labels,
            args=wire_args,
            kwargs=wire_kwargs,
        )
        self._record(
            TaskStatus(
                id=message.task_id,
                task=name,
                state=TaskState.QUEUED,
                max_attempts=bound.max_attempts,
                queued_at=now(),
                correlation_id=labels.get(HEADER_CORRELATION),
                traceparent=labels.get(HEADER_TRACEPARENT),
            )
        )
        done: asyncio.Future[TaskiqResult[Any]] = asyncio.get_running_loop().create_future()
        # A fresh context: what the task sees of its sender comes through the labels only.
        run = asyncio.get_running_loop().create_task(
            self._attempts(bound, message, done),
            name=f"in-memory task {name}",
            context=contextvars.Context(),
        )
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        return MemoryTask(message.task_id, done)

    def name_of(self, ref: TaskRef[Any, Any]) -> str:
        return module_task_name(ref, self._packages, TaskNotInThisKernel)

    async def status(self, task_id: str) -> TaskStatus | None:
        return self._records.get(task_id)

    async def recent(self, limit: int) -> list[TaskStatus]:
        return list(self._records.values())[-limit:]

    def describe(self) -> dict[str, Any]:
        return {
            "tasks": sorted(self.tasks),
            "worker": {"modules": sorted({b.module for b in self.tasks.values()}), **self.counts},
            "scheduler": False,
        }

    # -- for tests ---------------------------------------------------------------------------

    @property
    def records(self) -> list[TaskStatus]:
        """Every task sent, in order, as its status stands now."""
        return list(self._records.values())

    def changed(self) -> asyncio.Event:
        """Set at the next change of a record; take it before awaiting (as ``MemoryDelivery``)."""
        return self._changed

    async def close(self) -> list[str]:
        """Cancel the tasks still running; returns what was cut off, for the kernel's account."""
        runs = list(self._runs)
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        return [f"{len(runs)} in-memory task(s) still running, cancelled"] if runs else []

    # -- running -----------------------------------------------------------------------------

    async def _attempts(
        self, bound: BoundTask, message: TaskiqMessage, done: asyncio.Future[TaskiqResult[Any]]
    ) -> None:
        try:
            await self._run(bound, message, done)
        except BaseException as error:
            # The kernel's own part failed (the labels, a record), or the kernel stopped: the
            # task's waiter learns it instead of waiting for ever.
            if not done.done():
                done.set_exception(error)
            raise

    async def _run(
        self, bound: BoundTask, message: TaskiqMessage, done: asyncio.Future[TaskiqResult[Any]]
    ) -> None:
        labels = {key: str(value) for key, value in message.labels.items()}
        restore_context(
            labels, module=bound.module, propagation=self._propagation, accepted_at=now()
        )
        principal = current_principal.get()
        base = self._records[message.task_id].model_copy(
            update={
                "principal": principal.id if principal.is_authenticated else None,
                "worker": "in-memory",
            }
        )
        attempt = 0
        while True:
            attempt += 1
            running = base.model_copy(
                update={"state": TaskState.RUNNING, "attempts": attempt, "started_at": now()}
            )
            self._record(running)

            async def report(fraction: float, text: str | None) -> None:
                latest = self._records[message.task_id]
                self._record(latest.model_copy(update={"progress": fraction, "message": text}))

            info = TaskInfo(
                message.task_id,
                bound.name,
                attempt,
                bound.max_attempts,
                labels.get(HEADER_CORRELATION),
            )
            bind_run(info, report)
            # run_task parses arguments in place: each attempt gets the message as sent.
            result = await self._receiver.run_task(bound.ref.fn, message.model_copy(deep=True))
            current = self._records[message.task_id]
            retry = attempt < bound.max_attempts
            if not result.is_err:
                try:
                    value = to_json_value(result.return_value)
                except TypeError as unserialisable:  # the worker does not retry this either
                    retry = False
                    result = TaskiqResult(
                        is_err=True, return_value=None, execution_time=0, error=unserialisable
                    )
                else:
                    self.counts["succeeded"] += 1
                    self._record(
                        current.model_copy(
                            update={
                                "state": TaskState.SUCCEEDED,
                                "progress": 1.0,
                                "result": value,
                                "error": None,
                                "finished_at": now(),
                            }
                        )
                    )
                    done.set_result(result)
                    return
            error = f"{type(result.error).__name__}: {result.error}"
            if retry:
                self.counts["retried"] += 1
                self._record(
                    current.model_copy(update={"state": TaskState.RETRYING, "error": error})
                )
                await asyncio.sleep(0)  # where the worker would back off: others run first
                continue
            self.counts["failed"] += 1
            self._record(
                current.model_copy(
                    update={"state": TaskState.FAILED, "error": error, "finished_at": now()}
                )
            )
            done.set_result(result)
            return

    def _record(self, status: TaskStatus) -> None:
        self._records[status.id] = status
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
