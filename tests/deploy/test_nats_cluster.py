"""The cluster profile's NATS, run: three real nats-servers (the wheel's) on the committed configs
(``deploy/nats/nats.conf`` through ``deploy/nats/cluster.conf``), each with the name and routes
``compose.cluster.yaml`` gives it, form one JetStream cluster that keeps three copies of a stream;
a server that tries to route in without the route password is refused.

Only the addresses change: loopback ports instead of 4222/6222/8222, a store per node.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
import yaml
from nats.js.api import StreamConfig

from kernel.testing import free_port
from kernel.transport import find_nats_server

ROOT = Path(__file__).resolve().parents[2]
NODES = ("nats", "nats-2", "nats-3")
USERS = ("GATEWAY", "WORKER", "SCHEDULER", "CLI", "MODULE_AUDIT")


@dataclass
class Node:
    service: str
    client: int
    route: int
    monitor: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    def log(self) -> str:
        path = self.folder / "nats.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def monitoring(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor}{path}", timeout=2) as answer:
            return json.load(answer)


def _command(service: str) -> list[str]:
    """The node's command as compose.cluster.yaml writes it (anchors resolved)."""
    services = yaml.safe_load((ROOT / "compose.cluster.yaml").read_text())["services"]
    return [str(part) for part in services[service]["command"]]


def _on_loopback(node: Node, nodes: dict[str, Node], password: str) -> list[str]:
    """Write the node's configs with loopback addresses; its command with the routes resolved."""
    node.folder.mkdir(parents=True)
    webos = (ROOT / "deploy/nats/nats.conf").read_text()
    webos = re.sub(r"(?m)^listen: .*$", f'listen: "127.0.0.1:{node.client}"', webos)
    webos = re.sub(r"(?m)^http: .*$", f'http: "127.0.0.1:{node.monitor}"', webos)
    webos = re.sub(r"(?m)^  store_dir: .*$", f'  store_dir: "{node.folder / "js"}"', webos)
    (node.folder / "webos.conf").write_text(webos)
    cluster = (ROOT / "deploy/nats/cluster.conf").read_text()
    assert '"0.0.0.0:6222"' in cluster
    cluster = cluster.replace('"0.0.0.0:6222"', f'"127.0.0.1:{node.route}"')
    (node.folder / "cluster.conf").write_text(cluster)
    command = _command(node.service)
    assert command[:3] == ["nats-server", "--config", "/etc/nats/cluster.conf"]
    routes = command[command.index("--routes") + 1]
    routes = re.sub(r"\$\{NATS_ROUTE_PASSWORD[^}]*\}", password, routes)
    for name, other in nodes.items():
        routes = routes.replace(f"@{name}:6222", f"@127.0.0.1:{other.route}")
    command[command.index("--routes") + 1] = routes
    return [
        find_nats_server(),
        "--config",
        str(node.folder / "cluster.conf"),
        *command[3:],
        "--log",
        str(node.folder / "nats.log"),
    ]


def _wait(check, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout  # a failure bound, not a speed requirement
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout}s")
        time.sleep(0.1)


def _healthy(node: Node) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.monitor}/healthz", timeout=1) as a:
            return a.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[dict[str, Node], dict[str, str]]]:
    password = secrets.token_hex(16)
    users = {user: secrets.token_hex(16) for user in USERS}
    env = {**os.environ, "NATS_ROUTE_PASSWORD": password}
    env.update({f"NATS_{user}_PASSWORD": secret for user, secret in users.items()})
    nodes = {
        service: Node(service, free_port(), free_port(), free_port(), tmp_path / service)
        for service in NODES
    }
    try:
        for node in nodes.values():
            command = _on_loopback(node, nodes, password)
            node.process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        for node in nodes.values():
            _wait(lambda node=node: _healthy(node), f"{node.service} healthy:\n{node.log()}")
        yield nodes, users
    finally:
        for node in nodes.values():
            if node.process is not None:
                node.process.terminate()
                node.process.wait(10)


async def test_the_profiles_nodes_form_a_cluster_that_keeps_three_copies(
    cluster: tuple[dict[str, Node], dict[str, str]],
) -> None:
    nodes, users = cluster
    for node in nodes.values():
        assert node.monitoring("/routez")["num_routes"] >= 2, node.service
    servers = [f"nats://127.0.0.1:{node.client}" for node in nodes.values()]
    client = await nats.connect(servers, user="gateway", password=users["GATEWAY"])
    try:
        js = client.jetstream()
        info = await js.add_stream(
            StreamConfig(name="WEBOS_PROBE", subjects=["probe.>"], num_replicas=3)
        )
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
    finally:
        await client.close()


def test_a_server_without_the_route_password_is_not_let_in(
    cluster: tuple[dict[str, Node], dict[str, str]], tmp_path: Path
) -> None:
    nodes, _ = cluster
    first = nodes["nats"]
    intruder = tmp_path / "intruder"
    intruder.mkdir()
    config = {
        "server_name": "intruder",
        "listen": f"127.0.0.1:{free_port()}",
        "cluster": {
            "name": "webos",
            "listen": f"127.0.0.1:{free_port()}",
            "routes": [f"nats://127.0.0.1:{first.route}"],
        },
    }
    (intruder / "nats.conf").write_text(json.dumps(config))
    log = intruder / "nats.log"
    process = subprocess.Popen(
        [find_nats_server(), "--config", str(intruder / "nats.conf"), "--log", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(
            lambda: "router connection closed: authentication failure" in first.log().lower(),
            f"the first node refusing the route:\n{first.log()[-2000:]}",
        )
        routes = first.monitoring("/routez")["routes"]
        assert all(route.get("remote_name") != "intruder" for route in routes), routes
    finally:
        process.terminate()
        process.wait(10)
