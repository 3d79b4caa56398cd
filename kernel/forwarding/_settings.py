"""Settings of forwarding: what besides the kernel's own credentials never leaves the gateway."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from kernel.config import CsvList, WebOSSettings, split_csv


class ForwardingSettings(WebOSSettings):
    """``WEBOS_CREDENTIAL_HEADERS``."""

    credential_headers: CsvList = Field(
        default_factory=list,
        description="More request headers that carry credentials (a proxy's, an SSO's): the "
        "gateway drops them, like Authorization and X-API-Key, before forwarding a request.",
    )

    @field_validator("credential_headers", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return [name.lower() for name in split_csv(value)] if value else []
