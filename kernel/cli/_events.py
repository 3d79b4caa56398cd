"""``webos events tail`` and ``webos events emit``: watch and poke the bus from a shell."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from kernel.bus import Bus, normalize_subject, redacted, watch_filter
from kernel.cli._options import NatsTarget
from kernel.config import redact_url
from kernel.transport import InvalidSubject, connect_once, is_internal_subject, reach


async def tail_events(
    target: NatsTarget,
    subject: str,
    *,
    limit: int | None,
    write: Callable[[str], None],
    internal: bool = False,
) -> int:
    """Print each message with its headers (identities redacted) until interrupted (or ``limit``
    messages). Events only, by default: the kernel's own (heartbeats every few seconds) and its
    internal traffic (replies, ``$JS.API``...) would bury them; ``internal`` shows both."""
    subject = normalize_subject(subject, allow_wildcards=True)
    if is_internal_subject(subject) and not internal:
        # Silence would look like a dead bus: say why nothing would show.
        raise InvalidSubject(f"{subject!r} is the kernel's internal traffic: add --internal")
    shown = watch_filter(subject, internal_allowed=internal, everything=internal)
    url = target.url
    client = await connect_once(url, "webos-cli-tail", timeout=target.timeout, wait=target.wait)
    done = asyncio.Event()
    seen = 0

    async def show(msg: Any) -> None:
        nonlocal seen
        if done.is_set() or not shown(msg.subject):  # --count N prints N, not what follows
            return
        seen += 1
        headers = " ".join(f"{k}={v}" for k, v in redacted(msg.headers).items())
        write(f"{msg.subject}  {headers}\n  {_pretty(msg.data)}")
        if limit is not None and seen >= limit:
            done.set()

    await client.subscribe(subject, cb=show)
    await client.flush()
    write(f"listening on {subject!r} at {redact_url(url)} (Ctrl+C to stop)")
    try:
        await done.wait()
    finally:
        await client.close()
    return seen


def _pretty(data: bytes) -> str:
    try:
        return json.dumps(json.loads(data), ensure_ascii=False)
    except ValueError:
        return data.decode("utf-8", errors="replace")


async def emit_event(target: NatsTarget, subject: str, payload: Any) -> str:
    """Publish through the same bus code modules use, so headers match a real emit."""
    # The bus's client keeps reconnecting; reach NATS first, so that nobody there is one line.
    await reach(target.url, "webos-cli", timeout=target.timeout, wait=target.wait)
    bus = Bus()
    await bus.connect(target.url, client_name="webos-cli")
    try:
        return await bus.emit(subject, payload, source="cli")
    finally:
        await bus.close()
