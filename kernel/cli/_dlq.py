"""``webos dlq``: see and replay the events durable handlers gave up on."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kernel.cli._options import NatsTarget, nats_target, run_or_stop, settings_with, wait_option
from kernel.cli._table import table, wrapped
from kernel.errors import ConfigError

if TYPE_CHECKING:
    from kernel.bus import Reattest

T = TypeVar("T")


def _with_jetstream(
    target: NatsTarget, action: Callable[[Any], Awaitable[T]], *, interrupted: str | None = None
) -> T:
    from kernel.bus import DeadLetterNotFound
    from kernel.transport import connect_once

    async def run() -> T:
        client = await connect_once(
            target.url, "webos-dlq", timeout=target.timeout, wait=target.wait
        )
        try:
            return await action(client.jetstream())
        finally:
            await client.close()

    try:
        return run_or_stop(run(), interrupted=interrupted)
    except DeadLetterNotFound as error:
        raise click.ClickException(str(error)) from None


@click.group()
def dlq() -> None:
    """Dead letters of durable event handlers."""


@dlq.command("list")
@click.option("--limit", type=int, default=100)
@wait_option
def dlq_list(limit: int, wait: bool) -> None:
    """List dead letters, oldest first."""
    from kernel.bus import list_dead_letters

    letters = _with_jetstream(nats_target(wait), lambda js: list_dead_letters(js, limit=limit))
    if not letters:
        click.echo("no dead letters")
        return
    # The last error is what one reads a dead letter for, and the longest field: it gets lines
    # of its own under its row, whole and wrapped to the terminal, rather than a column cut at
    # a guessed width (``dlq show ID`` has every error and the payload).
    rows = [
        (
            letter.id,
            letter.subject,
            letter.handler,
            letter.deliveries,
            len(letter.errors),
            "trusted" if letter.trusted else "untrusted",
        )
        for letter in letters
    ]
    header, *lines = table(
        ("ID", "SUBJECT", "HANDLER", "TRIES", "ERRORS", "TRUST"), rows, right="ID TRIES ERRORS"
    )
    click.echo(header)
    for line, letter in zip(lines, letters, strict=True):
        click.echo(line)
        for part in wrapped(letter.error):
            click.echo(part)


@dlq.command("show")
@click.argument("letter_id", type=int)
@wait_option
def dlq_show(letter_id: int, wait: bool) -> None:
    """Show one dead letter: payload, headers and error."""
    from kernel.bus import get_dead_letter

    letter = _with_jetstream(nats_target(wait), lambda js: get_dead_letter(js, letter_id))
    body = {**letter.summary(), "payload": letter.payload(), "headers": letter.shown_headers()}
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))


@dlq.command("replay")
@click.argument("letter_id", type=int, required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
@wait_option
def dlq_replay(letter_id: int | None, replay_all: bool, wait: bool) -> None:
    """Deliver LETTER_ID (or --all) again to the handler that failed on it.

    A trusted letter runs as its original caller; an untrusted one (see ``dlq list``) runs
    anonymous, and is kept when its handler does not take the subject it names."""
    if (letter_id is None) == (not replay_all):
        raise click.UsageError("give a dead letter ID or --all (not both)")
    from kernel.bus import DeadLetterRefused, list_dead_letters, replay_dead_letter

    async def replay(js: Any) -> tuple[list[str], list[str]]:
        ids = (
            [letter_id]
            if letter_id is not None
            else [letter.id for letter in await list_dead_letters(js, limit=1_000_000)]
        )
        done: list[str] = []
        refused: list[str] = []
        for one in ids:
            try:
                letter = await replay_dead_letter(js, one, reattest=reattest)
            except DeadLetterRefused as error:
                refused.append(str(error))
                continue
            done.append(f"{one}" if letter.trusted else f"{one} (untrusted: anonymous)")
        return done, refused

    reattest = _reattester()
    replayed, refused = _with_jetstream(
        nats_target(wait),
        replay,
        interrupted="stopped while replaying: some dead letters may have been replayed already",
    )
    click.echo(f"replayed {len(replayed)} dead letter(s): {', '.join(replayed)}")
    for reason in refused:
        click.echo(reason, err=True)
    if refused:
        raise SystemExit(1)


def _reattester() -> Reattest | None:
    """Re-sign callers' identities when this machine holds the identity key (the gateway's data
    folder in development, WEBOS_IDENTITY_PRIVATE_KEY_FILE in production). Only that key is
    read: replaying needs no access-token key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kernel.auth import header_reattester, load_private_key
    from kernel.auth._keys import IDENTITY_PRIVATE_FILE

    settings = settings_with()
    generated = Path(settings.data_dir) / IDENTITY_PRIVATE_FILE
    source = settings.auth.identity_private_key_file
    if source is None and not generated.exists():
        # Not the gateway's folder: generating a new key here would sign for nobody.
        click.echo(
            f"warning: no identity key at {generated} (run from the gateway's folder or set "
            "WEBOS_IDENTITY_PRIVATE_KEY_FILE); replayed events older than the identity "
            "lifetime will run as anonymous",
            err=True,
        )
        return None
    try:
        private = load_private_key(source if source is not None else generated)
        problem = "" if isinstance(private, Ed25519PrivateKey) else "not an Ed25519 key"
    except ConfigError as error:
        private, problem = None, str(error)
    if problem or not isinstance(private, Ed25519PrivateKey):
        click.echo(
            f"warning: cannot re-sign identities (WEBOS_IDENTITY_PRIVATE_KEY_FILE: {problem}); "
            "replayed events older than the identity lifetime will run as anonymous",
            err=True,
        )
        return None
    return header_reattester(private.public_key(), private, leeway=settings.auth.jwt_leeway)
