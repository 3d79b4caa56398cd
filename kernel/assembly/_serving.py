"""How every kernel process runs: start, serve until SIGINT or SIGTERM, stop within the bound.

A stop signal at any moment stops the process within one ``WEBOS_SHUTDOWN_TIMEOUT``: while it
waits for NATS or runs startup hooks (the kernel cancels its start), and while it serves. A
requested stop is a normal end: the process exits 0 (README, "The webos command").
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from kernel._lazy import absent
from kernel.errors import StoppedWhileStarting

if TYPE_CHECKING:
    # Only named here: commands that merely connect (webos ps) need not load the runtime.
    from kernel.runtime import Kernel

log = logging.getLogger("webos.run")
T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def freeze_startup_heap() -> None:
    """Take what start-up built out of the cyclic garbage collector's sight (``gc.freeze``).

    Modules, classes, routes, schemas and the kernel live as long as the process: about 130,000
    objects in a started gateway. A full collection walks every object it tracks, with the event
    loop stopped: ~100 ms in that gateway, each time enough objects outlive the two younger
    collections, which happens under load (spans waiting for their batch export do; with
    tracing on, a worker made two full collections per 4,000 tasks). Frozen, they are skipped,
    and a full collection walks only what serving made. Reference counting still frees frozen
    objects; only a cycle among them would stay. Start-up leaves almost no cyclic garbage
    (about 200 objects in that gateway), so nothing is collected first: that would take the
    same 100 ms before the process is ready.
    """
    gc.freeze()


async def serve_until_stopped(
    kernel: Kernel,
    *,
    started: Callable[[], None] | None = None,
    before_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Start ``kernel`` (then :func:`freeze_startup_heap`), call ``started``, run until SIGINT
    or SIGTERM, then ``before_stop`` and stop the kernel (finishing running work). A signal
    during start ends it there."""
    stop = asyncio.Event()

    def stopping() -> None:
        kernel.begin_stop()  # one WEBOS_SHUTDOWN_TIMEOUT, counted from the signal
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping)
    try:
        await kernel.start()
    except StoppedWhileStarting as stopped:
        log.info("%s", stopped)
        return
    freeze_startup_heap()
    if started is not None:
        started()
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing work in progress")
        if before_stop is not None:
            await before_stop()
        await kernel.stop()


def until_stopped(work: Coroutine[Any, Any, T]) -> tuple[T | None, bool]:
    """Run ``work`` in a fresh event loop; SIGINT or SIGTERM cancels it. Returns its result and
    whether a stop signal ended it (then the result is None)."""

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await work
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    try:
        return asyncio.run(guarded()), False
    except asyncio.CancelledError:
        return None, True


def import_faststream_without_uvicorn() -> None:
    """Import FastStream with uvicorn hidden, before anything else imports it.

    FastStream imports uvicorn and watchfiles (1.6 MB of peak RSS in a worker) for its own ASGI
    runner, which no process of ours runs: the gateway serves with uvicorn itself, the other
    roles serve nothing over HTTP. Code importing uvicorn later gets the real one."""
    with absent("uvicorn"):
        import faststream  # noqa: F401
