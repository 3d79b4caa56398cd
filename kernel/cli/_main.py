from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from kernel.cli._deploy import nats_config
from kernel.cli._dlq import dlq
from kernel.cli._tasks import scheduler, worker
from kernel.cli._users import users
from kernel.errors import WebOSError
from kernel.settings import KernelSettings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def _friendly_errors(command: F) -> F:
    """Print kernel errors as one clear message and exit 1, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WebOSError as error:
            click.echo(f"webos: error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _csv(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def _settings(**overrides: Any) -> KernelSettings:
    return load_settings(**{key: value for key, value in overrides.items() if value is not None})


@click.group()
@click.version_option(package_name="webos")
def main() -> None:
    """WebOS: a distributed microkernel for Python back ends."""


@main.command()
@click.option("--only", help="Run only these modules (comma-separated).")
@click.option("--exclude", help="Do not run these modules (comma-separated).")
@click.option("--host", help="Listen address (WEBOS_HOST).")
@click.option("--port", type=int, help="Listen port (WEBOS_PORT).")
@click.option("--reload", is_flag=True, help="Restart when module code changes (development).")
@_friendly_errors
def run(
    only: str | None, exclude: str | None, host: str | None, port: int | None, reload: bool
) -> None:
    """Run the gateway (and an embedded nats-server when WEBOS_NATS_URL is unset)."""
    from kernel.gateway import run_gateway
    from kernel.logs import configure_logging

    settings = _settings(only=_csv(only), exclude=_csv(exclude), host=host, port=port)
    configure_logging(settings)
    sys.exit(run_gateway(settings, reload=reload))


@main.group()
def module() -> None:
    """Run modules in a process of their own."""


@module.command("run")
@click.argument("names", nargs=-1, required=True)
@_friendly_errors
def module_run(names: tuple[str, ...]) -> None:
    """Run NAMES as one process, connected to WEBOS_NATS_URL (default: the gateway's NATS)."""
    from kernel.gateway import run_modules
    from kernel.logs import configure_logging

    settings = _settings(only=list(names), exclude=[])
    configure_logging(settings)
    sys.exit(run_modules(settings))


@main.command()
@click.option("--wait", type=float, default=1.0, help="Seconds to collect answers.")
@_friendly_errors
def ps(wait: float) -> None:
    """List live nodes (gateway, module processes, workers) and their modules."""
    from kernel.nodes import snapshot

    settings = _settings()
    try:
        nodes = asyncio.run(snapshot(settings.effective_nats_url, wait=wait))
    except OSError as error:
        raise click.ClickException(
            f"cannot reach NATS at {settings.display_nats_url}: {error}"
        ) from None
    click.echo(f"{'NODE':<44} {'ROLE':<8} {'PID':>7}  {'HOST':<16} MODULES")
    for node in nodes:
        modules = ", ".join(f"{m.name}@{m.version}" for m in node.modules) or "-"
        click.echo(f"{node.node_id:<44} {node.role:<8} {node.pid:>7}  {node.host:<16} {modules}")
    if not nodes:
        click.echo("no live nodes answered", err=True)
        sys.exit(1)


@main.command("modules")
@_friendly_errors
def list_modules() -> None:
    """List the modules discovery finds, with any problems."""
    from kernel.modules import discover, start_order

    settings = _settings()
    found = discover(settings.modules_path)
    for spec in found.modules.values():
        manifest = spec.manifest
        depends = ", ".join(manifest.depends) or "-"
        click.echo(
            f"{spec.name:<16} {manifest.version:<10} {spec.origin:<12} depends: {depends:<20} "
            f"files: {', '.join(spec.files) or '-'}"
        )
    problems = [str(problem) for problem in found.problems]
    try:
        start_order({name: spec.manifest.depends for name, spec in found.modules.items()})
    except WebOSError as error:
        problems.append(str(error))
    if not found.modules:
        click.echo(f"no modules found in {settings.modules_path.resolve()}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        sys.exit(1)


@main.group()
def new() -> None:
    """Create things from templates."""


@new.command("module")
@click.argument("name")
@_friendly_errors
def new_module(name: str) -> None:
    """Scaffold a module (manifest, router, events, services, hooks, a test) in the modules path."""
    from kernel.cli._scaffold import scaffold_module

    settings = _settings()
    for path in scaffold_module(settings.modules_path, name):
        click.echo(f"created {path}")
    click.echo(
        f"restart 'webos run' to load it; test it with: pytest {settings.modules_path / name}"
    )


@main.group()
def events() -> None:
    """Watch and publish events."""


@events.command("tail")
@click.argument("subject", default=">")
@click.option("--count", type=int, help="Stop after this many events.")
@_friendly_errors
def events_tail(subject: str, count: int | None) -> None:
    """Print live events (with headers) on SUBJECT (default: everything)."""
    from kernel.cli._events import tail_events

    settings = _settings()
    try:
        asyncio.run(
            tail_events(settings.effective_nats_url, subject, limit=count, write=click.echo)
        )
    except KeyboardInterrupt:
        pass
    except OSError as error:
        raise click.ClickException(
            f"cannot reach NATS at {settings.display_nats_url}: {error}"
        ) from None


@events.command("emit")
@click.argument("subject")
@click.argument("payload", default="{}")
@_friendly_errors
def events_emit(subject: str, payload: str) -> None:
    """Publish PAYLOAD (JSON) on SUBJECT with the same headers a module's emit adds."""
    from kernel.cli._events import emit_event

    try:
        data = json.loads(payload)
    except ValueError as error:
        raise click.BadParameter(f"not valid JSON: {error}", param_hint="PAYLOAD") from None
    settings = _settings()
    try:
        event_id = asyncio.run(emit_event(settings.effective_nats_url, subject, data))
    except OSError as error:
        raise click.ClickException(
            f"cannot reach NATS at {settings.display_nats_url}: {error}"
        ) from None
    click.echo(event_id)


main.add_command(users)
main.add_command(dlq)
main.add_command(nats_config)
main.add_command(worker)
main.add_command(scheduler)
