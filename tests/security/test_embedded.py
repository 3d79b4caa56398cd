"""Embedded NATS has credentials: generated once per data directory (0600), read by every local
command, required of every client. Another local account reaching the loopback port cannot read
the bus or replay what it carries."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import nats

from kernel.transport import EmbeddedNats, load_or_create_credentials
from tests.security.hostile import WEBOS, free_port


async def _connect(url: str) -> str:
    try:
        client = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=1)
    except Exception as error:
        return f"refused: {error}"
    await client.close()
    return "connected"


def test_a_client_without_the_credentials_is_refused(tmp_path: Path) -> None:
    server = EmbeddedNats(free_port(), tmp_path / "nats")
    server.start()
    try:
        first_url = server.url
        password = server.credentials.password if server.credentials else ""
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode(errors="replace")
        without = asyncio.run(_connect(server.address))
        wrong = asyncio.run(_connect(server.address.replace("://", "://webos:wrong@")))
        server.stop()
        server.start()  # a restart keeps the credentials: running tools need no new ones
        again = asyncio.run(_connect(first_url))
    finally:
        server.stop()

    assert "authorization violation" in without.lower()
    assert "authorization violation" in wrong.lower()
    assert again == "connected" and server.url == first_url
    assert password and password not in cmdline  # every local account can read command lines
    credentials = tmp_path / "nats" / "credentials.json"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert json.loads(credentials.read_text())["password"] == password


def test_processes_starting_together_agree_on_one_password(tmp_path: Path) -> None:
    script = (
        "import sys; from kernel.transport import load_or_create_credentials as made; "
        "print(made(sys.argv[1]).password)"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    passwords = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert passwords == {load_or_create_credentials(tmp_path).password}


def test_a_local_command_without_credentials_says_where_it_looked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    env.update(WEBOS_DATA_DIR=str(tmp_path / "elsewhere"), WEBOS_NATS_PORT=str(free_port()))
    for command in (["ps"], ["events", "tail"], ["dlq", "list"], ["nats-config", "--client"]):
        result = subprocess.run(
            [WEBOS, *command], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        where = tmp_path / "elsewhere" / "nats" / "credentials.json"
        assert f"no NATS credentials in {where}" in result.stderr, (command, result.stderr)
        assert "WEBOS_NATS_URL" in result.stderr


async def test_the_test_server_wants_credentials_too(nats_server: EmbeddedNats) -> None:
    """``kernel.testing`` runs its server as ``webos run`` does; the harness passes them on."""
    refused, connected = await asyncio.gather(
        _connect(nats_server.address), _connect(nats_server.url)
    )
    assert "authorization violation" in refused.lower() and connected == "connected"
