"""Kernel settings, read from ``WEBOS_*`` environment variables and ``.env``."""

from kernel.settings._settings import (
    Environment,
    KernelSettings,
    load_settings,
    redact_url,
    settings_error,
)

__all__ = ["Environment", "KernelSettings", "load_settings", "redact_url", "settings_error"]
