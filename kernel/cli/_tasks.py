"""``webos worker`` and ``webos scheduler``: task processes of their own."""

from __future__ import annotations

import sys

import click

from kernel.cli._options import csv_list, settings_with, wait_option, waiting


@click.command()
@click.option("--modules", help="Run the tasks of these modules only (comma-separated).")
@click.option("--concurrency", type=int, help="Tasks run at once (WEBOS_TASKS_CONCURRENCY).")
@wait_option
def worker(modules: str | None, concurrency: int | None, wait: bool) -> None:
    """Run a task worker connected to WEBOS_NATS_URL (default: the gateway's NATS)."""
    from kernel.assembly import run_worker

    settings = settings_with(
        only=csv_list(modules) or [],
        exclude=[],
        tasks_concurrency=concurrency,
        nats_wait=waiting(wait),
    )
    sys.exit(run_worker(settings))


@click.command()
@wait_option
def scheduler(wait: bool) -> None:
    """Run the task scheduler (declared schedules; any number of them fire each tick once)."""
    from kernel.assembly import run_scheduler

    sys.exit(run_scheduler(settings_with(nats_wait=waiting(wait))))
