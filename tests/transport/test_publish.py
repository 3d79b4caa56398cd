"""The header block the bus writes itself is byte for byte the one nats-py writes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from nats.aio.client import Client

from kernel.transport import header_block

CASES: list[dict[str, str]] = [
    {"content-type": "application/json", "webos-event-id": "ab12", "Nats-Msg-Id": "ab12"},
    {"webos-time": "2026-12-06T23:44:43+00:00", "traceparent": "00-" + "a" * 32 + "-01"},
    {"x-note": "a: b c"},
    {"x-unicode": "café ✓"},
    {"x-empty": ""},
]
# Headers nats-py rewrites (or refuses): the bus leaves those messages to nats-py.
REWRITTEN: list[dict[str, str]] = [
    {"x-padded": "  value "},
    {"x-lines": "one\r\ntwo"},
    {"x-newline": "one\ntwo"},
    {" spaced-key ": "v"},
    {"bad key": "v"},
    {"": "v"},
    {"x-tab": "value\t"},
]


async def nats_py_block(headers: dict[str, str]) -> bytes:
    """What nats-py itself sends for ``headers`` (its HPUB command, header part)."""
    sent: list[bytes] = []
    client: Any = Client()

    async def capture(command: bytes, priority: bool = False) -> None:
        sent.append(command)

    client._send_command = capture
    await client._send_publish("s", "", b"{}", 2, headers)
    head, rest = sent[0].split(b"\r\n", 1)
    header_length = int(head.split()[-2])
    return rest[:header_length]


@pytest.mark.parametrize("headers", CASES)
async def test_same_bytes_as_nats_py(headers: dict[str, str]) -> None:
    assert header_block(headers) == await nats_py_block(headers)


@pytest.mark.parametrize("headers", REWRITTEN)
def test_headers_nats_py_rewrites_are_left_to_it(headers: dict[str, str]) -> None:
    assert header_block(headers) is None


def test_headers_are_read_as_nats_py_reads_them() -> None:
    from kernel.transport._client import parse_header_lines

    pieces = [b"webos-id", b"Nats-Msg-Id", b"a b", b"x\x1cy", b"caf\xc3\xa9", b":", b": ", b"\t"]
    pieces += [b"value", b" v ", b"\xff\xfe", b"\r\n", b"", b"k:v", b"\x0b", b"\xc3\xa9t\xc3\xa9"]
    rng = random.Random(19)
    blocks = [b"content-type: application/json\r\nwebos-event-id: ab\r\nNats-Msg-Id: ab\r\n"]
    for _ in range(3000):
        blocks.append(b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))))
    for block in blocks:
        assert parse_header_lines(block) == Client._parse_header_lines(block), block
