"""Kernel settings, read from ``WEBOS_*`` environment variables and ``.env``."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.config import Environment, redact_url, settings_error
    from kernel.settings._settings import KernelSettings, load_settings

__getattr__ = lazy_exports(__name__)
__all__ = ["Environment", "KernelSettings", "load_settings", "redact_url", "settings_error"]
