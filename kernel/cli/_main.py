"""``webos``: each command parses its options, then calls the kernel (``kernel.assembly`` for the
processes it runs). Heavy parts load inside the command that needs them, so ``webos --help`` stays
quick."""

from __future__ import annotations

import json
import sys

import click

from kernel.cli._contracts import contracts
from kernel.cli._deploy import init, nats_config
from kernel.cli._dlq import dlq
from kernel.cli._group import WebOSGroup
from kernel.cli._options import (
    csv_list,
    nats_target,
    run_or_stop,
    settings_with,
    wait_option,
    waiting,
)
from kernel.cli._ps import ps
from kernel.cli._services import call, services
from kernel.cli._settings import settings
from kernel.cli._tasks import scheduler, worker
from kernel.errors import WebOSError


@click.group(cls=WebOSGroup)
@click.version_option(package_name="webos")
def main() -> None:
    """WebOS: a distributed microkernel for Python back ends."""


@main.command()
@click.option("--only", help="Run only these modules (comma-separated).")
@click.option("--exclude", help="Do not run these modules (comma-separated).")
@click.option("--host", help="Listen address (WEBOS_HOST).")
@click.option("--port", type=int, help="Listen port (WEBOS_PORT).")
@click.option("--reload", is_flag=True, help="Restart when module code changes (development).")
@wait_option
def run(
    only: str | None,
    exclude: str | None,
    host: str | None,
    port: int | None,
    reload: bool,
    wait: bool,
) -> None:
    """Run the gateway (and an embedded nats-server when WEBOS_NATS_URL is unset)."""
    from kernel.assembly import run_gateway
    from kernel.logs import configure_logging

    settings = settings_with(
        only=csv_list(only),
        exclude=csv_list(exclude),
        host=host,
        port=port,
        nats_wait=waiting(wait),
    )
    configure_logging(settings)
    sys.exit(run_gateway(settings, reload=reload))


@main.group()
def module() -> None:
    """Run modules in a process of their own."""


@module.command("run")
@click.argument("names", nargs=-1, required=True)
@wait_option
def module_run(names: tuple[str, ...], wait: bool) -> None:
    """Run NAMES as one process, connected to WEBOS_NATS_URL (default: the gateway's NATS)."""
    from kernel.assembly import run_modules
    from kernel.logs import configure_logging

    settings = settings_with(only=list(names), exclude=[], nats_wait=waiting(wait))
    configure_logging(settings)
    sys.exit(run_modules(settings))


@main.command("modules")
def list_modules() -> None:
    """List the modules discovery finds, with any problems."""
    from kernel.modules import discover, start_order

    modules_path = settings_with().modules.modules_path
    found = discover(modules_path)
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
        click.echo(f"no modules found in {modules_path.resolve()}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        sys.exit(1)


@main.group()
def new() -> None:
    """Create things from templates."""


@new.command("module")
@click.argument("name")
def new_module(name: str) -> None:
    """Scaffold a module (manifest, router, events, services, hooks, a test) in the modules path:
    WEBOS_MODULES_PATH, or else modules/ at the project root (the folder holding pyproject.toml),
    wherever it is run. Names the loader would refuse are refused."""
    from pathlib import Path

    from kernel.cli._project import modules_path_from
    from kernel.cli._scaffold import scaffold_module

    modules = settings_with().modules
    modules_path = modules_path_from(
        modules.modules_path, explicit="modules_path" in modules.model_fields_set, cwd=Path.cwd()
    )
    for path in scaffold_module(modules_path, name):
        click.echo(f"created {path}")
    # Discovery runs at start. --reload restarts the app on a changed .py file, but may miss the
    # files of a folder created in one go (the watch on a new folder starts late): saving one of
    # them again is what reliably reloads.
    click.echo(
        "restart 'webos run' to load it (under 'webos run --reload', save one of its .py files); "
        f"test it with: pytest {modules_path / name}"
    )


@main.group()
def events() -> None:
    """Watch and publish events."""


@events.command("tail")
@click.argument("subject", default=">")
@click.option("--count", type=int, help="Stop after this many events.")
@click.option(
    "--internal",
    is_flag=True,
    help="Also show the kernel's internal traffic when SUBJECT names it (webos.http.>, ...).",
)
@wait_option
def events_tail(subject: str, count: int | None, internal: bool, wait: bool) -> None:
    """Print live events (with headers, identities redacted) on SUBJECT (default: all)."""
    from kernel.cli._events import tail_events

    target = nats_target(wait)
    run_or_stop(tail_events(target, subject, limit=count, write=click.echo, internal=internal))


@events.command("emit")
@click.argument("subject")
@click.argument("payload", default="{}")
@wait_option
def events_emit(subject: str, payload: str, wait: bool) -> None:
    """Publish PAYLOAD (JSON) on SUBJECT with the same headers a module's emit adds."""
    from kernel.cli._events import emit_event

    try:
        data = json.loads(payload)
    except ValueError as error:
        raise click.BadParameter(f"not valid JSON: {error}", param_hint="PAYLOAD") from None
    event_id = run_or_stop(
        emit_event(nats_target(wait), subject, data),
        interrupted="stopped before the event was published",
    )
    click.echo(event_id)


main.add_command(dlq)
main.add_command(ps)
main.add_command(call)
main.add_command(contracts)
main.add_command(services)
main.add_command(settings)
main.add_command(nats_config)
main.add_command(init)
main.add_command(worker)
main.add_command(scheduler)
