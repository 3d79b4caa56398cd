"""How often a process says it is alive: ``WEBOS_HEARTBEAT_INTERVAL``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings


class NodesSettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_HEARTBEAT_")

    interval: float = Field(
        2.0, gt=0, le=60, description="Seconds between node heartbeats (dropped after 3 missed)."
    )
