"""Reading the spans that processes wrote to a ``WEBOS_TRACE_FILE``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Span = dict[str, Any]


def read_spans(path: Path) -> list[Span]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def wait_for_span(path: Path, match: Callable[[Span], bool], timeout: float = 20.0) -> Span:
    """The first span in ``path`` that ``match`` accepts; raises TimeoutError (a failure bound)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for span in read_spans(path):
            if match(span):
                return span
        await asyncio.sleep(0.1)
    names = sorted({(s["service"], s["name"]) for s in read_spans(path)})
    raise TimeoutError(f"no matching span within {timeout}s; spans seen: {names}")


async def wait_for_chain(
    path: Path, match: Callable[[Span], bool], timeout: float = 20.0
) -> list[Span]:
    """The ancestry of the first span ``match`` accepts, once every parent reached ``path``.

    Processes export spans in batches, from a thread, so a child can be written before its
    parent; a chain still broken at ``timeout`` fails with :func:`ancestry`'s message.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    span = await wait_for_span(path, match, timeout)
    while True:
        try:
            return ancestry(span, read_spans(path))
        except AssertionError:
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(0.1)


def ancestry(span: Span, spans: list[Span]) -> list[Span]:
    """``span`` and its parents up to the root, all in one trace."""
    by_id = {(s["trace_id"], s["span_id"]): s for s in spans}
    chain = [span]
    while chain[-1]["parent_span_id"] is not None:
        parent = by_id.get((chain[-1]["trace_id"], chain[-1]["parent_span_id"]))
        if parent is None:
            raise AssertionError(
                f"span {chain[-1]['name']!r} has parent {chain[-1]['parent_span_id']} that no "
                f"process reported; chain so far: {[s['name'] for s in chain]}"
            )
        chain.append(parent)
    return chain
