"""A JetStream cluster of real ``nats-server`` processes on loopback, for failure tests.

Each node has its own store directory and monitoring port; a node can be killed with SIGKILL
(as a crashed machine) and restarted on the same store, as an operator would bring it back.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernel.testing._ports import free_ports
from kernel.transport import find_nats_server


@dataclass
class ClusterNode:
    name: str
    port: int
    cluster_port: int
    monitor_port: int
    store: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class NatsCluster:
    """``size`` nats-servers routed to each other, JetStream on every one."""

    def __init__(
        self,
        root: Path,
        size: int = 3,
        *,
        name: str = "webos-test",
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a cluster has at least one node")
        self.root = Path(root)
        self.name = name
        #: With both, every node refuses clients without these credentials (as a deployment's).
        self.user, self.password = user, password
        ports = free_ports(3 * size)
        self.nodes = [
            ClusterNode(
                name=f"n{index + 1}",
                port=ports[3 * index],
                cluster_port=ports[3 * index + 1],
                monitor_port=ports[3 * index + 2],
                store=self.root / f"n{index + 1}",
            )
            for index in range(size)
        ]

    @property
    def url(self) -> str:
        """Every node, comma-separated, with the credentials: what ``WEBOS_NATS_URL`` takes."""
        return ",".join(self.node_url(node.name) for node in self.nodes)

    def node_url(self, name: str) -> str:
        """One node's URL, with the credentials if the cluster has some."""
        url = self.node(name).url
        if self.user is None or self.password is None:
            return url
        return url.replace("nats://", f"nats://{self.user}:{self.password}@", 1)

    def node(self, name: str) -> ClusterNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in the cluster")

    def _config(self, node: ClusterNode) -> Path:
        routes = [
            f"nats-route://127.0.0.1:{other.cluster_port}"
            for other in self.nodes
            if other is not node
        ]
        config: dict[str, Any] = {
            "server_name": node.name,
            "listen": f"127.0.0.1:{node.port}",
            "http": f"127.0.0.1:{node.monitor_port}",
            "jetstream": {"store_dir": str(node.store)},
            **(
                {"authorization": {"user": self.user, "password": self.password}}
                if self.user is not None and self.password is not None
                else {}
            ),
        }
        if len(self.nodes) > 1:  # JetStream refuses a cluster block without routes
            config["cluster"] = {
                "name": self.name,
                "listen": f"127.0.0.1:{node.cluster_port}",
                "routes": routes,
            }
        node.store.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{node.name}.conf"
        path.write_text(json.dumps(config, indent=2))  # nats-server reads JSON as its config
        return path

    def start(self, timeout: float = 30.0) -> None:
        """Start every node and wait until JetStream is ready on all of them."""
        for node in self.nodes:
            self._spawn(node)
        for node in self.nodes:
            self._wait_healthy(node, timeout)

    def _spawn(self, node: ClusterNode) -> None:
        log = self.root / f"{node.name}.log"
        node.process = subprocess.Popen(
            [find_nats_server(), "--config", str(self._config(node)), "--log", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _wait_healthy(self, node: ClusterNode, timeout: float) -> None:
        health = f"http://127.0.0.1:{node.monitor_port}/healthz"
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not node.running:
                raise RuntimeError(f"nats-server {node.name} exited; see {self.root}")
            try:
                with urllib.request.urlopen(health, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = error.read().decode(errors="replace")
            except OSError as error:
                last = str(error)
            time.sleep(0.1)
        raise RuntimeError(f"nats-server {node.name} not healthy within {timeout}s: {last}")

    def kill(self, name: str) -> None:
        """SIGKILL one node: no goodbye to clients or peers."""
        node = self.node(name)
        if node.process is not None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(10)
            node.process = None

    def restart(self, name: str, timeout: float = 30.0) -> None:
        """Bring a killed node back on its store directory."""
        node = self.node(name)
        if node.running:
            raise RuntimeError(f"node {name} is running")
        self._spawn(node)
        self._wait_healthy(node, timeout)

    def stop(self) -> None:
        for node in self.nodes:
            process, node.process = node.process, None
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def __enter__(self) -> NatsCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
