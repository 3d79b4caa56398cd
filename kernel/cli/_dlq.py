"""``webos dlq``: see and replay the events durable handlers gave up on."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from kernel.bus import DeadLetterNotFound, get_dead_letter, list_dead_letters, replay_dead_letter
from kernel.natsserver import connect_once
from kernel.settings import load_settings

T = TypeVar("T")


def _with_jetstream(url: str, action: Callable[[Any], Awaitable[T]]) -> T:
    async def run() -> T:
        client = await connect_once(url, "webos-dlq")
        try:
            return await action(client.jetstream())
        finally:
            await client.close()

    try:
        return asyncio.run(run())
    except OSError as error:
        raise click.ClickException(f"cannot reach NATS at {url}: {error}") from None
    except DeadLetterNotFound as error:
        raise click.ClickException(str(error)) from None


def nats_url() -> str:
    return load_settings().effective_nats_url


@click.group()
def dlq() -> None:
    """Dead letters of durable event handlers."""


@dlq.command("list")
@click.option("--limit", type=int, default=100)
def dlq_list(limit: int) -> None:
    """List dead letters, oldest first."""
    letters = _with_jetstream(nats_url(), lambda js: list_dead_letters(js, limit=limit))
    if not letters:
        click.echo("no dead letters")
        return
    click.echo(f"{'ID':>6}  {'SUBJECT':<28} {'HANDLER':<40} {'TRIES':>5}  ERROR")
    for letter in letters:
        click.echo(
            f"{letter.id:>6}  {letter.subject:<28} {letter.handler[-40:]:<40} "
            f"{letter.deliveries:>5}  {letter.error[:80]}"
        )


@dlq.command("show")
@click.argument("letter_id", type=int)
def dlq_show(letter_id: int) -> None:
    """Show one dead letter: payload, headers and error."""
    letter = _with_jetstream(nats_url(), lambda js: get_dead_letter(js, letter_id))
    body = {**letter.summary(), "payload": letter.payload(), "headers": letter.headers}
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))


@dlq.command("replay")
@click.argument("letter_id", type=int, required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
def dlq_replay(letter_id: int | None, replay_all: bool) -> None:
    """Deliver LETTER_ID (or --all) again to the handler that failed on it."""
    if (letter_id is None) == (not replay_all):
        raise click.UsageError("give a dead letter ID or --all (not both)")

    async def replay(js: Any) -> list[int]:
        ids = (
            [letter_id]
            if letter_id is not None
            else [letter.id for letter in await list_dead_letters(js, limit=1_000_000)]
        )
        for one in ids:
            await replay_dead_letter(js, one)
        return ids

    replayed = _with_jetstream(nats_url(), replay)
    click.echo(f"replayed {len(replayed)} dead letter(s): {', '.join(map(str, replayed))}")
    if not replayed:
        sys.exit(0)
