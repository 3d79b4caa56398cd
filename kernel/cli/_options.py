"""What every command shares: settings from the environment plus command-line overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernel.settings import KernelSettings


def csv_list(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def settings_with(**overrides: Any) -> KernelSettings:
    """Settings from the environment; options given on the command line win."""
    # Loaded when a command runs, not for ``webos --help``: settings load pydantic-settings.
    from kernel.settings import load_settings

    return load_settings(**{key: value for key, value in overrides.items() if value is not None})
