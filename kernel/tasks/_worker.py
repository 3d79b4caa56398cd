"""The worker: pulls tasks from JetStream, runs them with their context, retries, records.

At least once. A task message is acknowledged only after its outcome is recorded; a worker that
dies mid-task leaves it unacknowledged and JetStream hands it to another worker after
``WEBOS_TASKS_ACK_WAIT`` seconds (a running task tells the server it is alive every third of
that). A task that raises is retried, ``nak`` with a delay of ``backoff * 2**(attempt-1)``
seconds (at most ``WEBOS_TASKS_BACKOFF_MAX``, the same backoff as durable events), until it has
had ``retries + 1`` attempts; then it is recorded as failed with its error and terminated. Every
redelivery is the original message, so a retry acts for the original principal.

Messages come from the kernel's one pull loop (``kernel.transport.PullLoop``), one per module,
with at most ``WEBOS_TASKS_CONCURRENCY`` tasks in hand per module.

Execution itself is taskiq's ``Receiver.run_task`` (argument validation, dependencies, timeouts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from taskiq.receiver import Receiver

from kernel.auth import current_principal
from kernel.propagation import HEADER_CORRELATION, HEADER_TRACEPARENT, Propagation
from kernel.tasks._broker import TASKS_STREAM, consumer_name, module_subjects, string_labels
from kernel.tasks._context import HEADER_TICK, TaskInfo, bind_run, restore_context
from kernel.tasks._settings import TasksSettings
from kernel.tasks._store import StatusStore, TaskState, TaskStatus, now, to_json_value
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, fail, received_span
from kernel.transport import PayloadTooLarge, PullLoop

if TYPE_CHECKING:
    from kernel.tasks._broker import KernelTaskBroker
    from kernel.tasks._decorator import TaskRef

log = logging.getLogger("webos.tasks")


#: Characters of a task's error its record keeps: the record must fit one NATS message.
ERROR_KEPT = 4000

RUNNING_RECORD_AFTER = 0.05
"""Seconds a task runs before its "running" record is written (at once on ``progress()``).

A task that is over sooner never gets one: until then its status reads "queued" from the
stream, and its outcome is the next write. That halves the writes of short tasks."""


def delivery_of(message: Any) -> tuple[int, datetime]:
    """How many times JetStream delivered ``message`` and when it stored it.

    Read from the reply subject like nats-py's ``message.metadata``, without building its
    seven-field object for every task.
    """
    tokens = (message.reply or "").split(".")
    if len(tokens) == 9 and tokens[0] == "$JS":  # $JS.ACK.stream.consumer.delivered.s.c.ns.pending
        delivered, stored_ns = tokens[4], tokens[7]
    else:  # the longer form (domain, account hash) or a malformed one: nats-py's parser decides
        metadata = message.metadata
        return metadata.num_delivered, metadata.timestamp
    return int(delivered), datetime.fromtimestamp(int(stored_ns) / 1e9, UTC)


class _Heartbeat:
    """One timer per run: writes the "running" record once it is due, then tells JetStream
    every ``interval`` seconds that the task is still being worked on (so it is not handed to
    another worker). A timer, not an asyncio task: most runs end before it first fires."""

    def __init__(self, message: Any, interval: float, record_running: Callable[[], None]) -> None:
        self._message = message
        self._interval = interval
        self._record_running = record_running
        self._loop = asyncio.get_running_loop()
        self._sending: asyncio.Future[None] | None = None  # held so it is not collected
        self._timer = self._loop.call_later(RUNNING_RECORD_AFTER, self._due)

    def _due(self) -> None:
        self._record_running()
        later = max(self._interval - RUNNING_RECORD_AFTER, 0.0)
        self._timer = self._loop.call_later(later, self._tick)

    def _tick(self) -> None:
        self._sending = asyncio.ensure_future(self._touch())
        self._timer = self._loop.call_later(self._interval, self._tick)

    async def _touch(self) -> None:
        try:
            await self._message.in_progress()
        except Exception as error:  # the next tick tries again; redelivery is the fallback
            log.warning("task worker: could not extend the ack deadline: %s", error)

    def cancel(self) -> None:
        self._timer.cancel()


@dataclass(frozen=True)
class BoundTask:
    """A task registered in this kernel: its full name, module and options resolved."""

    name: str
    module: str
    ref: TaskRef[Any, Any]
    retries: int
    backoff: float
    schedule_id: str | None

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    @classmethod
    def of(cls, module: str, ref: TaskRef[Any, Any], settings: TasksSettings) -> BoundTask:
        """``ref`` of ``module`` with the kernel's settings where ``@task`` left them unset."""
        options = ref.options
        name = f"{module}.{ref.function_name}"
        return cls(
            name=name,
            module=module,
            ref=ref,
            retries=settings.retries if options.retries is None else options.retries,
            backoff=settings.backoff if options.backoff is None else options.backoff,
            schedule_id=f"{name}@declared" if options.scheduled else None,
        )


class Worker:
    def __init__(
        self,
        broker: KernelTaskBroker,
        store: StatusStore,
        tasks: Mapping[str, BoundTask],
        *,
        settings: TasksSettings,
        shutdown_timeout: float,
        node_id: str,
        propagation: Propagation,
    ) -> None:
        self.broker = broker
        self.store = store
        self.tasks = dict(tasks)
        self.settings = settings
        self.shutdown_timeout = shutdown_timeout
        self.node_id = node_id
        self.propagation = propagation
        self.receiver = Receiver(broker, run_startup=False, max_async_tasks=settings.concurrency)
        self.modules = sorted({bound.module for bound in self.tasks.values()})
        self._stopping = False
        self._loops: list[PullLoop] = []
        #: Outcomes counted since start (``/api/system/tasks`` shows them).
        self.counts = {"succeeded": 0, "failed": 0, "retried": 0}

    async def start(self, js: Any) -> None:
        for module in self.modules:
            name = consumer_name(module)
            config = ConsumerConfig(
                durable_name=name,
                filter_subject=module_subjects(module),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self.settings.ack_wait,
                max_deliver=-1,
                max_ack_pending=max(1000, self.settings.concurrency * 4),
            )
            await js.add_consumer(TASKS_STREAM, config=config)
            subscription = await js.pull_subscribe_bind(durable=name, stream=TASKS_STREAM)
            loop = PullLoop(
                subscription,
                self._execute,
                name=f"task worker {module}",
                concurrency=self.settings.concurrency,
            )
            loop.start()
            self._loops.append(loop)
        log.info(
            "task worker %s: modules %s, concurrency %d",
            self.node_id,
            ", ".join(self.modules) or "none",
            self.settings.concurrency,
        )

    async def _execute(self, message: Any) -> None:
        attempt, accepted_at = delivery_of(message)
        try:
            taskiq_message = self.broker.formatter.loads(message.data)
        except Exception as problem:
            log.error("task message on %s is not a taskiq message: %s", message.subject, problem)
            await message.term()
            return
        task_id, name = taskiq_message.task_id, taskiq_message.task_name
        labels = string_labels(taskiq_message.labels)
        bound = self.tasks.get(name)
        if bound is None:
            known = ", ".join(sorted(self.tasks)) or "none"
            await self._fail(task_id, name, attempt, f"unknown task {name!r}; known: {known}")
            await message.term()
            return
        if attempt > bound.max_attempts:  # earlier attempts died with their worker
            await self._fail(
                task_id, name, attempt, f"gave up after {attempt - 1} deliveries", bound
            )
            await message.term()
            return
        # Who the task runs as comes only from its signed identity: a scheduled one carries the
        # scheduler's (kernel.tasks._schedule); a label naming a schedule grants nothing.
        restore_context(
            labels, module=bound.module, propagation=self.propagation, accepted_at=accepted_at
        )
        started = time.perf_counter()
        span_name, span_attributes = _process_span(name)
        with received_span(
            span_name,
            SpanKind.CONSUMER,
            span_attributes,
            {"messaging.message.id": task_id, "webos.task.attempt": attempt},
        ) as span:
            outcome, failure = await self._run(
                message, taskiq_message, bound, labels, attempt, accepted_at
            )
            if failure is not None:
                fail(span, failure)
        task_labels = attributes(task=name, outcome=outcome)
        meters = instruments()
        meters.task_runs.add(1, task_labels)
        meters.task_duration.record(time.perf_counter() - started, task_labels)

    async def _run(
        self,
        message: Any,
        taskiq_message: Any,
        bound: BoundTask,
        labels: dict[str, str],
        attempt: int,
        accepted_at: datetime,
    ) -> tuple[str, str | None]:
        """Run one attempt in its span; return its outcome and error."""
        task_id, name = taskiq_message.task_id, taskiq_message.task_name
        correlation = labels.get(HEADER_CORRELATION)
        principal, started_at = current_principal.get(), now()
        run: list[TaskStatus] = []  # the record, built when first needed (not before the run)

        def running() -> TaskStatus:
            if not run:
                run.append(
                    TaskStatus(
                        id=task_id,
                        task=name,
                        state=TaskState.RUNNING,
                        attempts=attempt,
                        max_attempts=bound.max_attempts,
                        correlation_id=correlation,
                        traceparent=labels.get(HEADER_TRACEPARENT),
                        principal=principal.id if principal.is_authenticated else None,
                        worker=self.node_id,
                        queued_at=accepted_at,
                        started_at=started_at,
                    )
                )
            return run[0]

        written: asyncio.Task[None] | None = None

        def record_running() -> None:
            nonlocal written
            if written is None:  # progress() may have written it already
                written = asyncio.create_task(self.store.put(running()))

        async def report(fraction: float, text: str | None) -> None:
            nonlocal written
            if written is not None:
                await written  # the same key: keep the writes in order
            run[0] = running().model_copy(update={"progress": fraction, "message": text})
            written = asyncio.create_task(self.store.put(run[0]))
            await written

        tick = labels.get(HEADER_TICK)
        info = TaskInfo(
            task_id,
            name,
            attempt,
            bound.max_attempts,
            correlation,
            int(tick) if tick and tick.isdigit() else None,
        )
        bind_run(info, report)
        heartbeat = _Heartbeat(message, max(self.settings.ack_wait / 3, 0.2), record_running)
        try:
            result = await self.receiver.run_task(bound.ref.fn, taskiq_message)
        finally:
            heartbeat.cancel()
            if written is not None:
                await written
        status = running()
        if self._stopping and isinstance(result.error, asyncio.CancelledError):
            await self.store.put(status.model_copy(update={"state": TaskState.QUEUED}))
            await message.nak()
            return ("requeued", None)
        if not result.is_err:
            try:
                value = to_json_value(result.return_value)
            except TypeError as unserialisable:
                reason = str(unserialisable)
                await self._fail(task_id, name, attempt, reason, bound, status)
                await message.term()
                return ("failed", reason)
            try:
                await self.store.put(
                    status.model_copy(
                        update={
                            "state": TaskState.SUCCEEDED,
                            # Done is all of it, whatever the task last reported (or none).
                            "progress": 1.0,
                            "result": value,
                            "error": None,
                            "finished_at": now(),
                        }
                    )
                )
            except PayloadTooLarge as too_large:  # a retry would only make the same result
                reason = f"its result is too large to record: {too_large}"
                await self._fail(task_id, name, attempt, reason, bound, status)
                await message.term()
                return ("failed", reason)
            self.counts["succeeded"] += 1
            await message.ack()
            return ("succeeded", None)
        error = f"{type(result.error).__name__}: {result.error}"[:ERROR_KEPT]
        if attempt < bound.max_attempts:
            delay = self.settings.delay(attempt, bound.backoff)
            await self.store.put(
                status.model_copy(
                    update={
                        "state": TaskState.RETRYING,
                        "error": error,
                        "next_attempt_at": now() + timedelta(seconds=delay),
                    }
                )
            )
            self.counts["retried"] += 1
            log.warning(
                "task %s (%s) failed on attempt %d/%d, retrying in %.1fs: %s",
                name,
                task_id,
                attempt,
                bound.max_attempts,
                delay,
                error,
            )
            await message.nak(delay=delay)
            return ("retrying", error)
        await self._fail(task_id, name, attempt, error, bound, status)
        await message.term()
        return ("failed", error)

    async def _fail(
        self,
        task_id: str,
        name: str,
        attempt: int,
        error: str,
        bound: BoundTask | None = None,
        status: TaskStatus | None = None,
    ) -> None:
        error = error[:ERROR_KEPT]
        status = (
            status
            or await self.store.get(task_id)
            or TaskStatus(id=task_id, task=name, state=TaskState.FAILED)
        )
        await self.store.put(
            status.model_copy(
                update={
                    "state": TaskState.FAILED,
                    "error": error,
                    "attempts": attempt,
                    "max_attempts": bound.max_attempts if bound else None,
                    "finished_at": now(),
                    "next_attempt_at": None,
                }
            )
        )
        self.counts["failed"] += 1
        log.error("task %s (%s) failed after %d attempt(s): %s", name, task_id, attempt, error)

    async def stop(self, timeout: float | None = None) -> list[str]:
        """Take no more tasks, let running ones finish (within ``timeout``: what is left of the
        process's shutdown bound), hand the rest back. Returns what was cut off."""
        self._stopping = True
        loops, self._loops = self._loops, []
        wait = self.shutdown_timeout if timeout is None else timeout
        cut = await asyncio.gather(*(loop.stop(wait) for loop in loops))
        return [
            f"{count} running task(s) of {loop.name}, handed back"
            for loop, count in zip(loops, cut, strict=True)
            if count
        ]


@cache
def _process_span(name: str) -> tuple[str, dict[str, str]]:
    """The consumer span's name and fixed attributes, built once per task name (spans copy them;
    the run's id and attempt come on top)."""
    return f"{name} process", {"messaging.system": "nats", "webos.task": name}
