"""``webos events tail`` and ``webos events emit``: watch and poke the bus from a shell."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from kernel.bus import Bus, normalize_subject
from kernel.config import redact_url
from kernel.transport import connect_once


async def tail_events(
    url: str, subject: str, *, limit: int | None, write: Callable[[str], None]
) -> int:
    """Print each message with its headers until interrupted (or ``limit`` messages)."""
    subject = normalize_subject(subject, allow_wildcards=True)
    client = await connect_once(url, "webos-cli-tail")
    done = asyncio.Event()
    seen = 0

    async def show(msg: Any) -> None:
        nonlocal seen
        if msg.subject.startswith(("_INBOX.", "_INBOX_")):  # replies, private ones too
            return
        seen += 1
        headers = " ".join(f"{k}={v}" for k, v in (msg.headers or {}).items())
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


async def emit_event(url: str, subject: str, payload: Any) -> str:
    """Publish through the same bus code modules use, so headers match a real emit."""
    bus = Bus()
    await bus.connect(url, client_name="webos-cli")
    try:
        return await bus.emit(subject, payload, source="cli")
    finally:
        await bus.close()
