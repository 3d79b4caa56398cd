"""Loopback ports for test servers, never the same one twice in a process.

Asking the kernel for port 0 and closing the socket can hand back the port it just gave out,
so two servers of one test (a node's client and cluster ports) could be told to share it."""

from __future__ import annotations

import socket

_handed_out: set[int] = set()


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    ports: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            held.append(sock)  # held open so this batch cannot repeat a port
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def free_port() -> int:
    """One loopback port that was free a moment ago and not handed out before."""
    return free_ports(1)[0]
