"""``webos contracts``: the modules' event and service contracts as AsyncAPI 3.0, and what a
change to them breaks. Both read the modules' code only (no NATS, nothing started), so they run
in CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from kernel.cli._options import settings_with


@click.group()
def contracts() -> None:
    """The modules' event and service contracts (AsyncAPI 3.0), and breaking-change checks."""


@contracts.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file instead of standard output.",
)
def export(out: Path | None) -> None:
    """Print the AsyncAPI document of the modules in the modules path (WEBOS_MODULES_PATH)."""
    text = json.dumps(_current_document(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@contracts.command("check")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
def check(old: Path) -> None:
    """Compare the modules' contracts with OLD (a saved 'webos contracts export'): print each
    breaking and safe change, one a line; exit 1 when any is breaking."""
    from kernel.asyncapi import compare

    saved = _saved_contracts(old)
    # Both sides go through the same document, so only what the document keeps is compared.
    changes = compare(saved, _read(_current_document(), old="the current modules"))
    for change in changes:
        click.echo(str(change))
    broken = sum(change.kind == "breaking" for change in changes)
    click.echo(
        f"{broken} breaking, {len(changes) - broken} safe change(s) since {old}"
        if changes
        else f"no changes since {old}",
        err=True,
    )
    sys.exit(1 if broken else 0)


def _current_document() -> dict[str, Any]:
    from kernel.asyncapi import system_contracts, to_asyncapi
    from kernel.errors import ModuleError
    from kernel.modules import discover

    modules_path = settings_with().modules.modules_path
    found = discover(modules_path)
    if found.problems:
        # A module left out would read as every subject of it removed.
        raise ModuleError("; ".join(str(problem) for problem in found.problems))
    if not found.modules:
        click.echo(f"webos: warning: no modules found in {modules_path.resolve()}", err=True)
    return to_asyncapi(system_contracts(found.modules.values()))


def _saved_contracts(path: Path) -> Any:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        _usage_error(f"cannot read {path}: {error.strerror or error}")
    except ValueError as error:
        _usage_error(f"{path} is not JSON ({error}); save one with 'webos contracts export'")
    return _read(document, old=str(path))


def _read(document: Any, *, old: str) -> Any:
    from kernel.asyncapi import ContractDocumentInvalid, from_asyncapi

    try:
        return from_asyncapi(document)
    except ContractDocumentInvalid as error:
        _usage_error(f"{old} is not an AsyncAPI document of 'webos contracts export': {error}")


def _usage_error(message: str) -> NoReturn:
    """One line and exit 2, the status of a usage error: the check did not run."""
    click.echo(f"webos: error: {message}", err=True)
    sys.exit(2)
