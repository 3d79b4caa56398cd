"""The one family of errors the kernel raises on purpose.

Every kernel error derives from :class:`WebOSError`. Each class says what a caller should see when
it escapes: ``http_status`` is the status the gateway answers with (a problem+json body whose
``detail`` is the message, for 4xx and 503), and the command line prints the message on one line
and exits 1. Messages are written for the person who has to fix the problem: they name the
setting, the module or the resource involved.

This module imports nothing, so that any part of the kernel (and any tool) can raise or catch a
kernel error without loading the rest of it.
"""

from __future__ import annotations

from typing import ClassVar


class WebOSError(Exception):
    """Base class of every error the kernel raises on purpose."""

    #: What the gateway answers when this error escapes a route handler.
    http_status: ClassVar[int] = 500


class ConfigError(WebOSError):
    """A setting is missing or invalid; the message names the environment variable."""


class ModuleError(WebOSError):
    """A module cannot be discovered, loaded, ordered or started; the message names it."""

    def __init__(
        self, message: str, *, modules: tuple[str, ...] = (), frames: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.modules = modules
        #: Where in the module's own files it failed (``path:line in name: code``), newest last.
        self.frames = frames


class StartupError(WebOSError):
    """The kernel could not start; start-up was rolled back before this was raised."""


class StoppedWhileStarting(WebOSError):
    """A stop signal arrived before start-up completed: what had started was stopped, within the
    shutdown bound. A requested stop, not a failure (the process exits 0)."""

    http_status = 503


class PartNotFound(WebOSError, LookupError):
    """``host.get(SomeType)`` asked for a part this kernel was not assembled with."""


class NotRunning(WebOSError, RuntimeError):
    """A part of the kernel was used before its kernel started (or after it stopped)."""

    http_status = 503


class DeadlineExceeded(WebOSError):
    """The work in progress has no time left before its deadline (its caller stopped waiting), so
    a call it makes is refused before anything is sent."""

    http_status = 504
