"""Schedules: taskiq's scheduler over a NATS KV schedule source, with one firing per tick.

Declared schedules (``@task(schedule=...)`` / ``@task(every=...)``) are written to the
``WEBOS_SCHEDULES`` bucket when a scheduler starts; the scheduler reads them back from there, so
schedules added at run time (``add_schedule``) are picked up by every scheduler process. Listing
goes through one index key updated with compare-and-set: reading never creates a consumer.

Any number of schedulers may run. Before sending, each one claims the tick in the
``WEBOS_SCHEDULE_TICKS`` bucket with a create-only write keyed by schedule and tick (the minute for
cron, ``floor(epoch / interval)`` for intervals): the first claim wins, the others skip it.

A scheduled task runs as ``system:scheduler`` because the scheduler signs that identity into it,
like any other sender's (``context``): a label grants nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from taskiq import ScheduledTask, ScheduleSource
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.scheduler.scheduler import TaskiqScheduler

from kernel.tasks._context import HEADER_TICK
from kernel.tasks._store import open_bucket

log = logging.getLogger("webos.tasks.scheduler")

SCHEDULES_BUCKET = "WEBOS_SCHEDULES"
TICKS_BUCKET = "WEBOS_SCHEDULE_TICKS"
INDEX_KEY = "_index"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def schedule_key(schedule_id: str) -> str:
    return _UNSAFE.sub("_", schedule_id)


def tick_of(schedule: ScheduledTask, moment: datetime) -> int:
    """The tick ``moment`` belongs to, as epoch seconds of its start."""
    seconds = int(moment.timestamp())
    if schedule.interval is not None:
        interval = schedule.interval
        step = int(interval.total_seconds()) if isinstance(interval, timedelta) else int(interval)
        return seconds - seconds % max(step, 1)
    if schedule.cron is not None:
        return seconds - seconds % 60
    return int(schedule.time.timestamp()) if schedule.time else seconds


class KvScheduleSource(ScheduleSource):
    """Schedules in NATS KV; ``pre_send`` claims the tick so that only one scheduler sends it."""

    def __init__(
        self,
        connection: Any,
        *,
        owner: str,
        clock: Callable[[], datetime] | None = None,
        tick_ttl: float = 3600.0,
        context: Callable[[], dict[str, str]] | None = None,
        replicas: int = 1,
    ) -> None:
        self._connection = connection
        #: Copies of the schedule buckets, when this scheduler creates them.
        self.replicas = replicas
        self.owner = owner
        #: Labels carrying the scheduler's own context (its signed identity) onto each send.
        self.context = context or dict
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tick_ttl = tick_ttl
        self.schedules: Any = None
        self.ticks: Any = None

    async def startup(self) -> None:
        js = self._connection.jetstream()
        self.schedules = await open_bucket(js, SCHEDULES_BUCKET, replicas=self.replicas)
        self.ticks = await open_bucket(js, TICKS_BUCKET, ttl=self.tick_ttl, replicas=self.replicas)

    async def _index(self) -> tuple[list[str], int]:
        try:
            entry = await self.schedules.get(INDEX_KEY)
        except KeyNotFoundError:
            return [], 0
        return (json.loads(entry.value) if entry.value else []), entry.revision or 0

    async def _change_index(self, change: Callable[[list[str]], list[str]]) -> None:
        for _ in range(50):
            ids, revision = await self._index()
            wanted = change(list(ids))
            if wanted == ids:
                return
            data = json.dumps(wanted).encode()
            try:
                if revision:
                    await self.schedules.update(INDEX_KEY, data, last=revision)
                else:
                    await self.schedules.create(INDEX_KEY, data)
                return
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0.01)  # another scheduler changed it: read again
        raise RuntimeError("could not update the schedule index (too much contention)")

    async def add_schedule(self, schedule: ScheduledTask) -> None:
        key = schedule_key(schedule.schedule_id)
        await self.schedules.put(key, schedule.model_dump_json().encode())
        await self._change_index(lambda ids: ids if key in ids else [*ids, key])

    async def delete_schedule(self, schedule_id: str) -> None:
        key = schedule_key(schedule_id)
        await self._change_index(lambda ids: [item for item in ids if item != key])
        with contextlib.suppress(KeyNotFoundError):
            await self.schedules.delete(key)

    async def get_schedules(self) -> list[ScheduledTask]:
        ids, _ = await self._index()
        found = []
        for key in ids:
            try:
                entry = await self.schedules.get(key)
            except KeyNotFoundError:
                continue
            if entry.value:
                found.append(ScheduledTask.model_validate_json(entry.value))
        return found

    async def claim(self, schedule: ScheduledTask, tick: int) -> bool:
        """Whether this scheduler is the first to claim ``tick`` of ``schedule``."""
        key = f"{schedule_key(schedule.schedule_id)}.{tick}"
        try:
            await self.ticks.create(key, self.owner.encode())
        except KeyWrongLastSequenceError:
            return False
        return True

    async def pre_send(self, task: ScheduledTask) -> None:
        tick = tick_of(task, self.clock())
        if not await self.claim(task, tick):
            log.debug("tick %d of %s already sent by another scheduler", tick, task.schedule_id)
            raise ScheduledTaskCancelledError
        task.labels.update(self.context())
        task.labels[HEADER_TICK] = str(tick)

    async def post_send(self, task: ScheduledTask) -> None:
        if task.time is not None:  # one-off schedules are done once sent
            await self.delete_schedule(task.schedule_id)


class Scheduler:
    """taskiq's scheduler loop over :class:`KvScheduleSource`, as a background asyncio task."""

    def __init__(self, broker: Any, source: KvScheduleSource, declared: Iterable[ScheduledTask]):
        self.source = source
        self.declared = list(declared)
        self.scheduler = TaskiqScheduler(broker, [source])
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, update_interval: timedelta = timedelta(seconds=10)) -> None:
        await self.source.startup()
        for schedule in self.declared:
            await self.source.add_schedule(schedule)
        loop = SchedulerLoop(self.scheduler)
        self._task = asyncio.create_task(
            loop.run(update_interval=update_interval, send_timeout=10.0),
            name="webos-scheduler",
        )
        names = ", ".join(schedule.task_name for schedule in self.declared) or "none declared"
        log.info("scheduler %s started: %s", self.source.owner, names)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
