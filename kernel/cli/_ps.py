"""``webos ps``: the live nodes, and the kernel's JetStream streams with their copies."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from kernel.cli._options import NatsTarget, nats_target, run_or_stop, wait_option
from kernel.cli._table import table

#: Seconds to wait for the stream list.
STREAMS_TIMEOUT = 2.0


async def _streams(url: str) -> list[dict[str, Any]]:
    from kernel.transport import connect_once, stream_status

    client = await connect_once(url, "webos-ps")
    try:
        # A user without JetStream rights gets no answer at all: do not wait long for it.
        return await stream_status(client.jetstream(timeout=STREAMS_TIMEOUT))
    finally:
        await client.close()


async def _look(
    target: NatsTarget, collect: float
) -> tuple[list[Any], list[dict[str, Any]] | BaseException]:
    from kernel.nodes import snapshot
    from kernel.transport import reach

    url = target.url
    await reach(url, "webos-ps", timeout=target.timeout, wait=target.wait)
    nodes, streams = await asyncio.gather(
        snapshot(url, wait=collect), _streams(url), return_exceptions=True
    )
    if isinstance(nodes, BaseException):
        raise nodes
    # Without JetStream (a server without it, a user without the right) the nodes still show.
    return nodes, streams


def _copies(stream: dict[str, Any]) -> str:
    """The other copies of a stream: ``n2 current, n3 lag 12 (offline)``; ``-`` for none."""
    shown = []
    for peer in stream["peers"]:
        state = "current" if peer["current"] else f"lag {peer['lag']}"
        shown.append(f"{peer['name']} {state}{' (offline)' if peer['offline'] else ''}")
    return ", ".join(shown) or "-"


@click.command()
@click.option("--collect", type=float, default=1.0, help="Seconds to collect answers.")
@wait_option
def ps(collect: float, wait: bool) -> None:
    """List live nodes (gateway, module processes, workers) and their modules, then the kernel's
    JetStream streams: copies, leader, and how far behind each other copy is."""
    nodes, streams = run_or_stop(_look(nats_target(wait), collect))
    node_rows = [
        (
            node.node_id,
            node.role,
            node.pid,
            node.host,
            ", ".join(f"{m.name}@{m.version}" for m in node.modules) or "-",
        )
        for node in nodes
    ]
    for line in table(("NODE", "ROLE", "PID", "HOST", "MODULES"), node_rows, right="PID"):
        click.echo(line)
    if isinstance(streams, BaseException):
        click.echo(f"streams: cannot read them ({streams})", err=True)
    elif streams:
        stream_rows = [
            (s["name"], s["replicas"], s["leader"] or "-", s["messages"], _copies(s))
            for s in streams
        ]
        headers = ("STREAM", "REPLICAS", "LEADER", "MESSAGES", "COPIES")
        click.echo()
        for line in table(headers, stream_rows, right="REPLICAS MESSAGES"):
            click.echo(line)
    if not nodes:
        click.echo("no live nodes answered", err=True)
        sys.exit(1)
