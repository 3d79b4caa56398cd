from pydantic import Field

from kernel import ModuleSettings


class AuditSettings(ModuleSettings):
    """Read from WEBOS_MOD_AUDIT_*."""

    keep: int = Field(1000, ge=1, le=1_000_000, description="How many recent events to keep.")
