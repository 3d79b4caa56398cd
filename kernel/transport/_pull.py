"""The one JetStream pull-consumer loop, used by durable event handlers and the task worker.

A loop fetches from one pull subscription and hands each message to a handler that settles it
(ack, nak with a delay, term): the loop itself never acknowledges anything, so what "done" means
stays with the handler. ``concurrency`` says how many messages may be in hand at once. At 1 the
messages of a fetch are handled one after the other, in stream order; above 1 each runs in a task
of its own and the loop fetches only as many as there is room for, so nothing waits in this
process that another could take.

Failed work is retried by the handler with :func:`retry_delay`: the same exponential backoff for
events and tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("webos.transport")

#: Seconds a fetch waits for messages before asking again (bounds how fast ``stop`` is heard).
FETCH_WAIT = 1.0
#: Seconds before fetching again after a failed fetch (lost connection, deleted consumer).
FETCH_RETRY = 1.0
#: Messages fetched at once when handling one at a time.
BATCH = 16
#: Seconds a handler cut off by shutdown has to hand its message back (a nak) once cancelled.
HAND_BACK_WAIT = 0.2

Handle = Callable[[Any], Awaitable[None]]


def retry_delay(attempt: int, first: float, longest: float) -> float:
    """Seconds before retrying after failed attempt ``attempt`` (1-based): doubling, capped."""
    return float(min(first * 2 ** max(attempt - 1, 0), longest))


class PullLoop:
    """Fetch from ``subscription`` and hand each message to ``handle`` (see the module docstring).

    ``handle`` must settle the message and should not raise; an error it raises is logged and
    the message is left for JetStream to redeliver after its ack wait.
    """

    def __init__(
        self, subscription: Any, handle: Handle, *, name: str, concurrency: int = 1
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.subscription = subscription
        self.name = name
        self.concurrency = concurrency
        self._handle = handle
        self._stopping = False
        self._handling = False  # inline mode: a message is in hand (stop waits for it)
        self._running: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None

    @property
    def in_hand(self) -> int:
        return len(self._running) if self.concurrency > 1 else int(self._handling)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"webos-pull-{self.name}")

    async def _run(self) -> None:
        while not self._stopping:
            room = await self._wait_for_room()
            if room == 0:
                continue
            try:
                messages = await self.subscription.fetch(room, timeout=FETCH_WAIT)
            except TimeoutError:  # nats-py's own TimeoutError derives from it
                continue
            except Exception:
                if self._stopping:
                    return
                log.exception("%s: fetch failed; retrying in %.0fs", self.name, FETCH_RETRY)
                await asyncio.sleep(FETCH_RETRY)
                continue
            for index, message in enumerate(messages):
                if self._stopping:
                    await _hand_back(messages[index:])  # now rather than after the ack wait
                    return
                try:
                    await self._dispatch(message)
                except asyncio.CancelledError:  # cut off by stop(): the batch's rest goes back
                    await _hand_back(messages[index + 1 :])
                    raise

    async def _wait_for_room(self) -> int:
        if self.concurrency == 1:
            return BATCH
        await self._room.wait()
        room = self.concurrency - len(self._running)
        if room <= 0:
            self._room.clear()
            return 0
        return room

    async def _dispatch(self, message: Any) -> None:
        if self.concurrency == 1:
            self._handling = True
            try:
                await self._settle(message)
            finally:
                self._handling = False
            return
        running = asyncio.create_task(self._settle(message))
        self._running.add(running)
        if len(self._running) >= self.concurrency:
            self._room.clear()
        running.add_done_callback(self._done)

    def _done(self, running: asyncio.Task[None]) -> None:
        self._running.discard(running)
        self._room.set()

    async def _settle(self, message: Any) -> None:
        try:
            await self._handle(message)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await message.nak()  # stopped mid-run: another consumer takes it at once
            raise
        except Exception:
            log.exception("%s: could not settle a message; JetStream will redeliver it", self.name)

    async def stop(self, timeout: float) -> int:
        """Fetch no more; let the messages in hand finish (bounded by ``timeout``: what is left of
        the process's shutdown bound), hand back the rest, then unsubscribe. Returns how many
        messages in hand were cut off (handed back unfinished). Safe to call twice."""
        self._stopping = True
        self._room.set()
        cut = 0
        task, self._task = self._task, None
        if task is not None:
            if self._handling:
                done, _ = await asyncio.wait({task}, timeout=timeout)
                cut += 0 if done else 1
            task.cancel()
            await asyncio.wait({task}, timeout=HAND_BACK_WAIT)
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=timeout)
            for running in pending:
                running.cancel()
            if pending:
                cut += len(pending)
                await asyncio.wait(pending, timeout=HAND_BACK_WAIT)
        with contextlib.suppress(Exception):
            await self.subscription.unsubscribe()
        return cut


async def _hand_back(messages: list[Any]) -> None:
    for message in messages:
        with contextlib.suppress(Exception):
            await message.nak()


__all__ = ["BATCH", "FETCH_WAIT", "HAND_BACK_WAIT", "PullLoop", "retry_delay"]
