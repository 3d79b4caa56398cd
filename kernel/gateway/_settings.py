"""Settings of the gateway's HTTP server."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from kernel.config import CsvList, WebOSSettings, split_csv


class GatewaySettings(WebOSSettings):
    """``WEBOS_PORT``, ``WEBOS_CORS_ORIGINS``, ``WEBOS_MAX_BODY_SIZE`` (the address is
    ``WEBOS_HOST``, shared with the metrics server)."""

    port: int = Field(8000, ge=1, le=65535, description="Port the gateway listens on.")
    cors_origins: CsvList = Field(default_factory=list, description="Allowed CORS origins.")
    max_body_size: int = Field(
        10 * 1024 * 1024, ge=1, description="Largest request body the gateway accepts, in bytes."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)
