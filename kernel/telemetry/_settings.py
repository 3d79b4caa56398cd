"""``WEBOS_METRICS_PORT``: a plain Prometheus endpoint for processes without HTTP."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings


class TelemetrySettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_METRICS_")

    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve this process's Prometheus metrics on WEBOS_HOST:PORT/metrics, "
        "unauthenticated (docs/observability.md); the gateway also has a guarded /metrics.",
    )
