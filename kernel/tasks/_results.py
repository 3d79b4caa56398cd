"""taskiq's result-backend interface over the status store (``wait_result`` on a sent task).

Apart from :mod:`kernel.tasks._store` because it imports taskiq (and its aiohttp): a process that
only reads statuses (the gateway's system and console views) loads neither until it sends.
"""

from __future__ import annotations

from typing import Any

from taskiq import AsyncResultBackend, TaskiqResult
from taskiq.depends.progress_tracker import TaskProgress

from kernel.tasks._store import StatusStore, TaskError, TaskState, now, to_json_value


class KvResultBackend(AsyncResultBackend[Any]):
    """taskiq's result-backend interface over :class:`StatusStore` (for ``wait_result``)."""

    def __init__(self, store: StatusStore) -> None:
        self.store = store

    async def set_result(self, task_id: str, result: TaskiqResult[Any]) -> None:
        if result.is_err:
            error = f"{type(result.error).__name__}: {result.error}"
            await self.store.update(task_id, state=TaskState.FAILED, error=error, finished_at=now())
        else:
            await self.store.update(
                task_id,
                state=TaskState.SUCCEEDED,
                result=to_json_value(result.return_value),
                finished_at=now(),
            )

    async def is_result_ready(self, task_id: str) -> bool:
        status = await self.store.get(task_id)
        return status is not None and status.done

    async def get_result(self, task_id: str, with_logs: bool = False) -> TaskiqResult[Any]:
        status = await self.store.get(task_id)
        if status is None or not status.done:
            raise LookupError(f"task {task_id!r} has no result yet")
        elapsed = 0.0
        if status.started_at and status.finished_at:
            elapsed = (status.finished_at - status.started_at).total_seconds()
        failed = status.state is TaskState.FAILED
        return TaskiqResult(
            is_err=failed,
            return_value=None if failed else status.result,
            execution_time=round(elapsed, 3),
            error=TaskError(status.error) if failed else None,
        )

    async def set_progress(self, task_id: str, progress: TaskProgress[Any]) -> None:
        meta = progress.meta if isinstance(progress.meta, dict) else {}
        await self.store.update(task_id, progress=meta.get("progress"), message=meta.get("message"))

    async def get_progress(self, task_id: str) -> TaskProgress[Any] | None:
        status = await self.store.get(task_id)
        if status is None:
            return None
        return TaskProgress(
            state=status.state.value,
            meta={"progress": status.progress, "message": status.message},
        )
