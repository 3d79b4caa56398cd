"""``webos settings list|get|set``: modules' live settings from a shell, through the same editor
as the console (validated by the module's model, saved in NATS KV, applied without a restart,
announced as ``webos.settings.updated`` by ``cli``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kernel.cli._options import NatsTarget, nats_target, run_or_stop, settings_with, wait_option
from kernel.cli._table import table

if TYPE_CHECKING:
    from kernel.livesettings import SettingsEditor

T = TypeVar("T")
#: Who the history names for a change made here: the operator holds the CLI's NATS credential.
PRINCIPAL = "cli"


def _with_editor(target: NatsTarget, action: Callable[[SettingsEditor], Awaitable[T]]) -> T:
    from kernel.bus import Bus
    from kernel.livesettings import SettingsEditor, SettingsStore, settings_classes
    from kernel.modules import discover
    from kernel.transport import reach

    classes = settings_classes(discover(settings_with().modules.modules_path).modules.values())

    async def run() -> T:
        # The bus's client keeps reconnecting; reach NATS first, so that nobody there is one line.
        await reach(target.url, "webos-cli", timeout=target.timeout, wait=target.wait)
        bus = Bus()
        await bus.connect(target.url, client_name="webos-cli")
        try:
            store = await SettingsStore.open(bus.nats.jetstream())

            async def announce(subject: str, payload: dict[str, Any]) -> Any:
                return await bus.emit(subject, payload, source="cli")

            return await action(SettingsEditor(store, classes, announce))
        finally:
            await bus.close()

    return run_or_stop(run(), interrupted="stopped before the settings were read or saved")


def parse_assignment(text: str) -> tuple[str, Any]:
    """``FIELD=VALUE``; a VALUE that is a JSON list or object is read as one."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r} is not FIELD=VALUE", param_hint="FIELD=VALUE")
    if value.startswith(("[", "{")):
        try:
            return name.strip(), json.loads(value)
        except ValueError as error:
            raise click.BadParameter(f"{name}: not valid JSON: {error}") from None
    return name.strip(), value


def _show(shown: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    rows = [
        [
            item["name"],
            ("set" if item["is_set"] else "unset") if item["secret"] else json.dumps(item["value"]),
            item["source"] + (f" ({item['variable']}, locked)" if item["locked"] else ""),
            item["type"],
        ]
        for item in shown["fields"]
    ]
    click.echo(table(["FIELD", "VALUE", "SOURCE", "TYPE"], rows))


@click.group("settings")
def settings() -> None:
    """Modules' live settings (environment over saved over default)."""


@settings.command("list")
@wait_option
def settings_list(wait: bool) -> None:
    """Modules with a settings.py model."""
    for name in _with_editor(nats_target(wait), _modules):
        click.echo(name)


async def _modules(editor: SettingsEditor) -> list[str]:
    return editor.modules()


@settings.command("get")
@click.argument("module")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
@wait_option
def settings_get(module: str, as_json: bool, wait: bool) -> None:
    """Each field of MODULE: value (secrets: set or unset), source, type."""
    _show(_with_editor(nats_target(wait), lambda editor: editor.describe(module)), as_json)


@settings.command("set")
@click.argument("module")
@click.argument("assignments", nargs=-1, required=True, metavar="FIELD=VALUE...")
@wait_option
def settings_set(module: str, assignments: tuple[str, ...], wait: bool) -> None:
    """Save FIELD=VALUE for MODULE; every process running it applies it without a restart."""
    changes = dict(parse_assignment(text) for text in assignments)
    shown = _with_editor(nats_target(wait), lambda editor: editor.save(module, changes, PRINCIPAL))
    _show(shown, as_json=False)
