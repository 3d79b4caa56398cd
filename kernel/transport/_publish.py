"""One message with headers on nats-py, its header block written with a few bytes operations.

nats-py writes a header block key by key (a regular expression per key, a strip and a translate
per value, a bytes extend for each piece): a measurable share of sending a small event. The bus
sends the same handful of well-formed headers on every event, so :func:`header_block` writes them
with one join and one encode, and checks the result in one pass: any header nats-py would
rewrite (a key it refuses or skips, a value with surrounding whitespace or a line break) makes it
return None, and the caller lets nats-py write that message itself. The bytes are the same either
way (``tests/transport/test_publish.py`` compares them with nats-py's own).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nats import errors
from nats.protocol.command import hpub_cmd, pub_cmd

from kernel.transport._client import KernelClient

HEADER_START = "NATS/1.0\r\n"
#: A header name as nats-py accepts it (its ``_HEADER_KEY_RE``: an HTTP token).
_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_KEYS_KNOWN = 256
#: Header names already checked against ``_KEY``: the bus sends the same few on every event.
_known_keys: set[str] = set()


def _valid_keys(headers: Mapping[str, str]) -> bool:
    if _known_keys.issuperset(headers):
        return True
    if not all(_KEY.fullmatch(key) for key in headers):
        return False
    if len(_known_keys) >= _KEYS_KNOWN:
        _known_keys.clear()  # names are few in practice; never let them grow without bound
    _known_keys.update(headers)
    return True


def header_block(headers: Mapping[str, str]) -> bytes | None:
    """The header block nats-py would send for ``headers``, or None when nats-py would rewrite
    one of them (then let it write the message: see the module docstring)."""
    if not _valid_keys(headers):
        return None
    values = list(headers.values())
    if [value.strip() for value in values] != values:
        return None  # nats-py strips each value
    text = "".join([f"{key}: {value}\r\n" for key, value in headers.items()])
    lines = len(values)
    # A line break inside a value (nats-py turns it into a space) shows as one more \r or \n
    # than there are lines.
    if text.count("\r") != lines or text.count("\n") != lines:
        return None
    return f"{HEADER_START}{text}\r\n".encode()


async def publish_block(
    client: Any, subject: str, payload: bytes, block: bytes | None, reply: str = ""
) -> None:
    """nats-py's ``Client.publish`` (its checks, counters and flushing) with the header block
    already written (None: a message without headers), written on ``call_soon`` by a
    :class:`KernelClient` (see ``_client.py``). The subject was validated by the caller
    (``normalize_subject``, or ``_requests.py``); ``reply`` is the kernel's own inbox."""
    if client.is_closed:
        raise errors.ConnectionClosedError
    if client.is_draining_pubs:
        raise errors.ConnectionDrainingError
    size = len(payload)
    if not client.is_connected:
        pending = client._max_pending_size
        if pending <= 0 or size + client._pending_data_size > pending:
            raise errors.OutboundBufferLimitError
    if size > client._max_payload:
        raise errors.MaxPayloadError
    stats = client.stats
    stats["out_msgs"] += 1
    stats["out_bytes"] += size
    if block is None:
        command = pub_cmd(subject, reply, payload)
    else:
        command = hpub_cmd(subject, reply, block, payload)
    if isinstance(client, KernelClient) and client.send_soon(command):
        return  # written with everything else sent in this loop iteration
    await client._send_command(command)
    flushing = client._flush_queue
    if flushing is not None and flushing.empty():
        await client._flush_pending()
