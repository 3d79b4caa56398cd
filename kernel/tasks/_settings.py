"""Settings of background tasks: ``WEBOS_TASKS_*`` (docs/tasks.md)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings
from kernel.transport import retry_delay


class TasksSettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_TASKS_")

    worker: bool | None = Field(
        None, description="Run a task worker inside the gateway (unset: only with embedded NATS)."
    )
    scheduler: bool | None = Field(
        None,
        description="Run the task scheduler inside the gateway (unset: only with embedded NATS).",
    )
    concurrency: int = Field(8, ge=1, le=10000, description="Tasks a worker runs at once.")
    retries: int = Field(3, ge=0, le=100, description="Retries of a failing task (default).")
    backoff: float = Field(1.0, gt=0, description="First task retry delay, seconds (doubles).")
    backoff_max: float = Field(300.0, gt=0, description="Longest task retry delay, seconds.")
    ack_wait: float = Field(
        30.0, ge=0.5, description="Seconds without a sign of life before a task is redelivered."
    )
    result_ttl: float = Field(
        7 * 24 * 3600, ge=1, description="Seconds task status and results are kept."
    )
    max_age: float = Field(
        7 * 24 * 3600, ge=1, description="Seconds a queued task waits for a worker at most."
    )

    def delay(self, attempt: int, first: float) -> float:
        """Seconds before retrying after failed attempt ``attempt`` of a task backing off from
        ``first`` seconds."""
        return retry_delay(attempt, first, self.backoff_max)
