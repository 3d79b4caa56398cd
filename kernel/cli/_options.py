"""What every command shares: settings from the environment plus command-line overrides, the
``--wait`` option, and how a stop signal ends a command."""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

T = TypeVar("T")

if TYPE_CHECKING:
    from kernel.settings import KernelSettings


def csv_list(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def settings_with(**overrides: Any) -> KernelSettings:
    """Settings from the environment; options given on the command line win."""
    # Loaded when a command runs, not for ``webos --help``: settings load pydantic-settings.
    from kernel.settings import load_settings

    return load_settings(**{key: value for key, value in overrides.items() if value is not None})


#: ``--wait`` on every command that connects to NATS.
wait_option = click.option(
    "--wait",
    is_flag=True,
    help="Keep trying to reach NATS until it answers (Ctrl+C stops); without it, fail after "
    "WEBOS_NATS_CONNECT_TIMEOUT seconds (WEBOS_NATS_WAIT=true: the same for every command).",
)


def waiting(wait: bool) -> bool | None:
    """The ``nats_wait`` override of ``--wait``: None leaves WEBOS_NATS_WAIT to decide."""
    return True if wait else None


@dataclass(frozen=True)
class NatsTarget:
    """Where a command connects, and how its first contact goes (``kernel.transport.reach``)."""

    url: str
    timeout: float
    wait: bool


def nats_target(wait: bool) -> NatsTarget:
    """WEBOS_NATS_URL (or the embedded server's, with its credentials), WEBOS_NATS_CONNECT_TIMEOUT,
    and ``--wait`` or WEBOS_NATS_WAIT."""
    settings = settings_with(nats_wait=waiting(wait))
    nats = settings.nats
    return NatsTarget(nats.client_url(settings.data_dir), nats.connect_timeout, nats.wait)


def run_or_stop(work: Coroutine[Any, Any, T], *, interrupted: str | None = None) -> T:
    """Run a command's async part; SIGINT or SIGTERM ends it as a requested stop: exit 0 (the
    rule of every command), after printing ``interrupted`` (what was left undone) if given."""
    from kernel.assembly import until_stopped

    result, stopped = until_stopped(work)
    if stopped:
        if interrupted:
            click.echo(f"webos: {interrupted}", err=True)
        sys.exit(0)
    return result  # type: ignore[return-value]
