"""Exceptions shared by every kernel subsystem.

They live in one small module so that a subsystem can raise a kernel error without importing
another subsystem (and so the CLI can turn any of them into a one-line message and exit code).
"""

from __future__ import annotations


class WebOSError(Exception):
    """Base class of every error the kernel raises on purpose."""


class ConfigError(WebOSError):
    """A setting is missing or invalid; the message names the environment variable."""


class ModuleError(WebOSError):
    """A module cannot be discovered, loaded, ordered or started; the message names it."""

    def __init__(self, message: str, *, modules: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.modules = modules


class StartupError(WebOSError):
    """The kernel could not start; start-up was rolled back before this was raised."""
