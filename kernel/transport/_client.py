"""The long-lived NATS connection of a kernel process: kept through what the server does to it,
and every loss and recovery said once in the log.

**Kept.** When nats-server ends a connection with an error (``-ERR 'Maximum Payload Violation'``
for a message whose body fits ``max_payload`` but body and headers do not, which nats-py does not
check; an unknown protocol operation, ...), nats-py closes the client for good: no reconnect, every
subscription dropped. Everything a process built on that one client (the bus's handlers, durable
consumers, services, forwarded HTTP, the task worker, heartbeats) would then be dead until a
restart. A connection the server drops without a word (killed, restarted, a cluster node gone) is
re-established instead, its subscriptions replayed. :class:`KernelClient` treats the first case as
the second, so the same client object comes back whole and nothing holding it has to be rebuilt.
An authorization violation still closes it: a new connection would be refused the same way.
(``kernel/transport/_limits.py`` keeps the kernel's own publishes under the limit; this is for
whatever else gets through.)

**Written once per loop iteration.** nats-py hands every publish to its flusher task through a
queue of futures: a task step, two futures and a queue round trip per write. While the socket
takes everything written to it, :meth:`KernelClient.flush_soon` writes what is pending in one
``writelines`` from a ``loop.call_soon`` callback instead, so every publish made in one
iteration still goes out in one write. As soon as the socket holds data back (or the flusher
already has work, or the connection is not up), the client falls back to nats-py's own path:
the flusher writes and waits for the socket, publishes pile up in ``_pending`` and the pending
size limit pushes back on publishers exactly as before; while disconnected they are kept for the
reconnect.

**Said once.** :class:`ConnectionWatch` holds the client's callbacks: a loss is one warning naming
the server (credentials redacted) and why, a recovery one line naming the server reached, and a
close nobody asked for an error. The failed attempts in between are debug lines.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.aio.client import Client
from nats.errors import NoServersError, StaleConnectionError
from nats.protocol.parser import AUTHORIZATION_VIOLATION, PERMISSIONS_ERR, STALE_CONNECTION

from kernel.config import redact_url

log = logging.getLogger("webos.nats")
#: Server errors nats-py already handles as they should be: a reconnect, a close, a refusal.
_HANDLED = (STALE_CONNECTION, AUTHORIZATION_VIOLATION, PERMISSIONS_ERR)


#: The ASCII characters ``str.isspace`` is true for: a header name holding one is skipped.
_NAME_SPACE = bytes([*range(0x09, 0x0E), *range(0x1C, 0x21)])


def parse_header_lines(raw: bytes) -> dict[str, str]:
    """nats-py's ``Client._parse_header_lines`` with the same result, a few bytes operations a
    line instead of a Python step per character of every name (half of a delivery's cost on
    an event's seven headers). ``tests/transport/test_publish.py`` compares the two."""
    out: dict[str, str] = {}
    for line in raw.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            continue  # an empty line or one without a name
        name = name.strip()
        # A name that is not ASCII, or holds whitespace, is skipped, as nats-py does.
        if not name.isascii() or len(name.translate(None, _NAME_SPACE)) != len(name):
            continue
        out[name.decode("ascii")] = value.strip().decode("utf-8", "replace")
    return out


class KernelClient(Client):
    """nats-py's client, re-established after an error the server ends the connection with,
    reading message headers with :func:`parse_header_lines`, writing on ``call_soon``."""

    #: Why the server ended the connection last (until :class:`ConnectionWatch` has said so).
    ended_by: str | None = None
    #: A :meth:`_write_pending` is scheduled for this loop iteration.
    _write_scheduled = False
    #: The task reporting a failed write (kept referenced until it is done).
    _write_error: asyncio.Task[None] | None = None

    _parse_header_lines = staticmethod(parse_header_lines)

    def _writes_directly(self) -> bool:
        """Whether pending data can go straight to the socket: connected, the flusher alive and
        idle, and the socket holding nothing back (else nats-py's flusher and its back-pressure)."""
        if not self.is_connected or self.is_connecting:
            return False
        flusher = self._flusher_task
        queue = self._flush_queue
        if flusher is None or flusher.done() or queue is None or not queue.empty():
            return False
        writer = getattr(self._transport, "_io_writer", None)  # TCP and TLS; else nats-py's way
        return writer is not None and writer.transport.get_write_buffer_size() == 0

    def flush_soon(self) -> bool:
        """Write what is pending at the end of this loop iteration; False (nothing scheduled)
        when nats-py's flusher must do it (see the module docstring)."""
        if self._write_scheduled:
            return True
        if not self._writes_directly():
            return False
        self._write_scheduled = True
        asyncio.get_running_loop().call_soon(self._write_pending)
        return True

    def send_soon(self, command: bytes) -> bool:
        """Queue ``command`` (a protocol line with its payload) to go out with this iteration's
        write; False, and nothing queued, when nats-py's ``_send_command`` must take it (over
        the pending size limit, or the flusher's turn: see the module docstring)."""
        size = self._pending_data_size + len(command)
        if self._max_pending_size > 0 and size > self._max_pending_size:
            return False
        if not self.flush_soon():
            return False
        self._pending.append(command)
        self._pending_data_size = size
        return True

    def _write_pending(self) -> None:
        self._write_scheduled = False
        if self._pending_data_size == 0 or not self.is_connected or self.is_connecting:
            return  # nothing to write, or kept for the reconnect (which writes it)
        queue = self._flush_queue
        flusher = self._flusher_task
        if self._writes_directly() or queue is None or flusher is None or flusher.done():
            self._write_now()  # (without a flusher, nats-py writes inline too)
        elif queue.empty():
            # The socket fell behind since: nats-py's flusher writes and waits for it.
            queue.put_nowait(asyncio.get_running_loop().create_future())

    def _write_now(self) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            transport.writelines(self._pending)
        except OSError as error:  # as nats-py's flusher does with a failed write
            self._write_error = asyncio.get_running_loop().create_task(self._write_failed(error))
            return
        self._pending = []
        self._pending_data_size = 0

    async def _write_failed(self, error: OSError) -> None:
        await self._error_cb(error)
        await self._process_op_err(error)

    async def _flush_pending(self, force_flush: bool = False) -> Any:
        # A forced flush (the pending size limit) waits for the socket: nats-py's own.
        if force_flush or not self.flush_soon():
            return await super()._flush_pending(force_flush)
        return None

    async def _process_err(self, err_msg: str) -> None:
        if any(known in err_msg for known in _HANDLED):
            await super()._process_err(err_msg)
            return
        self.ended_by = err_msg.strip("'")
        # nats-py's own path for a connection lost: replays subscriptions on the next server.
        await self._process_op_err(StaleConnectionError(self.ended_by))


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` is about reaching the server (reported by :class:`ConnectionWatch`)."""
    return isinstance(error, OSError | asyncio.TimeoutError | StaleConnectionError | NoServersError)


def _address(connection: Any) -> str:
    url = getattr(connection, "connected_url", None)
    return redact_url(url.geturl()) if url is not None else "?"


class ConnectionWatch:
    """The callbacks of one kernel process's connection (see the module docstring).

    Pass :meth:`disconnected`, :meth:`reconnected` and :meth:`closed` to the client, call
    :meth:`attach` once connected and :meth:`closing` before closing it on purpose; the client's
    error callback hands connection errors to :meth:`absorbs`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.connection: Any = None
        #: The server last reached (credentials redacted).
        self.address = "?"
        self.losses = 0
        self.recoveries = 0
        self._reason: str | None = None
        self._closing = False

    def attach(self, connection: Any) -> None:
        self.connection = connection
        self.address = _address(connection)

    def closing(self) -> None:
        """The process closes the connection itself: no loss to report."""
        self._closing = True

    def absorbs(self, error: BaseException) -> bool:
        """Keep a connection error as the reason for the loss about to be reported (nats-py
        reports one per attempt while it reconnects); False for any other error."""
        if not is_connection_error(error):
            return False
        self._reason = str(error) or type(error).__name__
        log.debug("NATS (%s): %s", self.name, self._reason)
        return True

    async def disconnected(self) -> None:
        connection = self.connection
        if connection is None or connection.is_closed:
            return  # a close, not a loss: closed() speaks
        self.losses += 1
        ended_by = getattr(connection, "ended_by", None)
        if ended_by:
            connection.ended_by = None
        reason = f"the server said: {ended_by}" if ended_by else self._reason or "no reason given"
        self._reason = None
        log.warning(
            "NATS connection to %s lost (%s); reconnecting [%s]", self.address, reason, self.name
        )

    async def reconnected(self) -> None:
        self.recoveries += 1
        self._reason = None  # the failed attempts' errors: no reason for a later loss
        self.address = _address(self.connection)
        log.info("NATS connection re-established to %s [%s]", self.address, self.name)

    async def closed(self) -> None:
        if self._closing or self.connection is None:
            return
        error = getattr(self.connection, "last_error", None)
        log.error(
            "NATS connection to %s closed and not re-established (%s) [%s]: this process no "
            "longer sends or receives anything until it is restarted",
            self.address,
            error or "no reason given",
            self.name,
        )
