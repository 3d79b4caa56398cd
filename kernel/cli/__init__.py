"""The ``webos`` command: it parses, then calls the kernel."""

from kernel.cli._main import main

__all__ = ["main"]
