"""``webos run`` as a user runs it: a real process with the embedded nats-server."""

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import httpx
import nats
import pytest

from kernel.testing import server_caught_up, write_module
from tests.cli.conftest import REPO_MODULES, Gateway, processes_mentioning


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_gateway_and_embedded_nats(gateway: Gateway, sig: int) -> None:
    gateway.start()
    gateway.wait_ready()
    assert processes_mentioning(str(gateway.data_dir)), "the embedded nats-server should run"

    code = gateway.stop(sig, timeout=10)

    assert code == 0, gateway.process.stdout.read()
    assert processes_mentioning(str(gateway.data_dir)) == []


def test_quick_tour(gateway: Gateway) -> None:
    """The README's tour: hello, a raw NATS subscriber sees it, audit lists it."""
    gateway.start()
    gateway.wait_ready()

    url = gateway.nats_client_url()

    async def tour() -> tuple[httpx.Response, bytes]:
        client = await nats.connect(url)
        received: asyncio.Queue[bytes] = asyncio.Queue()

        async def keep(msg) -> None:
            await received.put(msg.data)

        await client.subscribe("greeter.>", cb=keep)
        await server_caught_up(client)
        async with httpx.AsyncClient(base_url=gateway.url) as http:
            response = await http.post("/api/greeter/hello", content=b'{"name":"Ada"}')
        data = await asyncio.wait_for(received.get(), 10)
        await client.close()
        return response, data

    response, data = asyncio.run(tour())
    assert response.status_code == 200
    assert json.loads(data)["name"] == "Ada"
    events = httpx.get(
        f"{gateway.url}/api/audit/events",
        params={"subject": "greeter.>"},
        headers=gateway.login_headers(),
    ).json()
    assert events[0]["subject"] == "greeter.greeted"
    assert events[0]["payload"]["name"] == "Ada"


def test_embedded_nats_refuses_clients_without_the_credentials(gateway: Gateway) -> None:
    """Another local account can reach the loopback port, but not read the bus: the embedded
    server wants the password `webos run` generated into the data directory (0600)."""
    gateway.start()
    gateway.wait_ready()
    credentials = gateway.data_dir / "nats" / "credentials.json"
    assert credentials.stat().st_mode & 0o777 == 0o600
    password = json.loads(credentials.read_text())["password"]
    assert password in gateway.nats_client_url()
    server = processes_mentioning(str(gateway.data_dir))[0]
    assert password not in Path(f"/proc/{server}/cmdline").read_text(errors="replace")

    async def attempt(url: str) -> str:
        try:
            client = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=1)
        except Exception as error:
            return f"refused: {error}"
        await client.close()
        return "connected"

    bare = f"nats://127.0.0.1:{gateway.nats_port}"
    guessed = f"nats://webos:guess@127.0.0.1:{gateway.nats_port}"
    assert "authorization violation" in asyncio.run(attempt(bare)).lower()
    assert "authorization violation" in asyncio.run(attempt(guessed)).lower()
    assert asyncio.run(attempt(gateway.nats_client_url())) == "connected"


def test_missing_dependency_stops_start_up(make_gateway, tmp_path: Path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "billing", {}, manifest='name = "billing"\ndepends = ["payments"]\n')
    gateway = make_gateway(modules)

    result = gateway.command("run", timeout=30)

    assert result.returncode != 0
    assert "'billing' depends on 'payments', which is not installed" in result.stderr
    assert processes_mentioning(str(gateway.data_dir)) == []


def test_dependency_cycle_stops_start_up(make_gateway, tmp_path: Path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "left", {}, manifest='name = "left"\ndepends = ["right"]\n')
    write_module(modules, "right", {}, manifest='name = "right"\ndepends = ["left"]\n')
    gateway = make_gateway(modules)

    result = gateway.command("run", timeout=30)

    assert result.returncode != 0
    assert "cycle" in result.stderr
    assert "left" in result.stderr and "right" in result.stderr


def test_failing_startup_hook_exits_non_zero_and_stops_nats(make_gateway, tmp_path: Path) -> None:
    modules = tmp_path / "mods"
    hooks = (
        "from kernel import hookimpl\n\n"
        "@hookimpl\nasync def webos_startup():\n    raise RuntimeError('no disk')\n"
    )
    write_module(modules, "fragile", {"hooks.py": hooks})
    gateway = make_gateway(modules)

    result = gateway.command("run", timeout=30)

    assert result.returncode != 0
    assert "fragile" in result.stderr and "no disk" in result.stderr
    assert processes_mentioning(str(gateway.data_dir)) == []


def test_busy_nats_port_is_a_clear_error(make_gateway, tmp_path: Path) -> None:
    import socket

    gateway = make_gateway(tmp_path / "mods")
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", gateway.nats_port))
        blocker.listen()
        result = gateway.command("run", timeout=30)
    assert result.returncode != 0
    assert f"127.0.0.1:{gateway.nats_port} is already in use" in result.stderr
    assert "WEBOS_NATS_PORT" in result.stderr


def test_bad_setting_names_the_variable(make_gateway, tmp_path: Path) -> None:
    gateway = make_gateway(tmp_path / "mods", WEBOS_NATS_PORT="not-a-port")
    result = gateway.command("run", timeout=30)
    assert result.returncode != 0
    assert "WEBOS_NATS_PORT" in result.stderr


def test_only_and_exclude(gateway: Gateway) -> None:
    gateway.start("--only", "greeter,audit", "--exclude", "audit")
    gateway.wait_ready()
    modules = httpx.get(f"{gateway.url}/api/system/modules", headers=gateway.admin_headers())
    assert [m["name"] for m in modules.json()] == ["greeter"]
    # Excluded modules run elsewhere: their routes are forwarded, and nobody is serving them.
    forwarded = httpx.get(f"{gateway.url}/api/audit/events", headers=gateway.admin_headers())
    assert forwarded.status_code == 503
    assert "no live instance of module 'audit'" in forwarded.json()["detail"]


def test_restart_on_the_same_ports_right_away(gateway: Gateway) -> None:
    """Connections of the first run linger in TIME_WAIT; the port checks must not mind."""
    gateway.start()
    gateway.wait_ready()
    assert gateway.stop(signal.SIGINT) == 0

    gateway.start()

    assert gateway.wait_ready().status_code == 200
    assert gateway.stop(signal.SIGTERM) == 0


def test_sigkill_of_the_gateway_takes_the_embedded_nats_server_with_it(gateway: Gateway) -> None:
    """No graceful stop at all (the OOM killer, kill -9): the README promises the embedded
    nats-server dies with the gateway, freeing its port for the next run."""
    gateway.start()
    gateway.wait_ready()
    servers = processes_mentioning(str(gateway.data_dir))
    assert servers, "the embedded nats-server should run"

    gateway.process.kill()
    gateway.process.wait(10)

    deadline = time.monotonic() + 15  # a failure bound, not a speed requirement
    while (left := processes_mentioning(str(gateway.data_dir))) and time.monotonic() < deadline:
        time.sleep(0.05)
    for orphan in left:  # this test's own server: never leave it running
        os.kill(orphan, signal.SIGKILL)
    assert left == [], f"nats-server {left} outlived its SIGKILLed gateway"
    gateway.start()  # and the next run gets the port
    assert gateway.wait_ready().status_code == 200
    assert gateway.stop(signal.SIGTERM) == 0


def test_a_local_client_cannot_pick_its_address_with_forwarded_for(make_gateway) -> None:
    """The real server must not take X-Forwarded-For from a loopback peer (uvicorn would): each
    guess would then count against a fresh address."""
    gateway = make_gateway(REPO_MODULES, WEBOS_LOGIN_MAX_PER_ADDRESS="2", WEBOS_ONLY="auth")
    gateway.start()
    gateway.wait_ready()
    answers = [
        httpx.post(
            f"{gateway.url}/api/auth/login",
            json={"email": f"user{index}@example.org", "password": "guessing the password"},
            headers={"X-Forwarded-For": f"203.0.113.{index}"},
            timeout=10,
        ).status_code
        for index in range(3)
    ]
    assert answers == [401, 401, 429]
