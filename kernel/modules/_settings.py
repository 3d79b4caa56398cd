"""Where modules are found and which of them a process runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from kernel.config import CsvList, WebOSSettings, split_csv


class ModulesSettings(WebOSSettings):
    """``WEBOS_MODULES_PATH``, ``WEBOS_ONLY``, ``WEBOS_EXCLUDE``."""

    modules_path: Path = Field(Path("modules"), description="Folder scanned for modules.")
    only: CsvList = Field(default_factory=list, description="Run only these modules.")
    exclude: CsvList = Field(default_factory=list, description="Do not run these modules.")

    @field_validator("only", "exclude", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)
