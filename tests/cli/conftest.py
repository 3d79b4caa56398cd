"""Run the real ``webos`` command in subprocesses, on free loopback ports."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kernel.testing import free_port

WEBOS = str(Path(sys.executable).parent / "webos")
REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"
ADMIN_EMAIL = "root@example.org"
ADMIN_PASSWORD = "correct horse battery staple"


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (to prove nothing is left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and "nats-server" in cmdline:
            found.append(int(entry.name))
    return found


class Gateway:
    def __init__(
        self, workdir: Path, modules_path: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.nats_port = free_port()
        self.data_dir = workdir / ".webos"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")},
            "WEBOS_PORT": str(self.port),
            "WEBOS_NATS_PORT": str(self.nats_port),
            "WEBOS_DATA_DIR": str(self.data_dir),
            "WEBOS_MODULES_PATH": str(modules_path),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [WEBOS, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        self.process = subprocess.Popen(
            [WEBOS, "run", *args],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self.process

    def nats_client_url(self) -> str:
        """The URL `webos nats-config --client` prints: the README's way for NATS tools."""
        result = self.command("nats-config", "--client", timeout=30)
        assert result.returncode == 0, result.stderr
        assignment = shlex.split(result.stdout.strip().removeprefix("export "))
        assert len(assignment) == 1 and assignment[0].startswith("NATS_URL="), result.stdout
        return assignment[0].removeprefix("NATS_URL=")

    def admin_headers(self) -> dict[str, str]:
        """A token signed with the gateway's development key (shared through data_dir)."""
        from kernel.auth import issue_access_token, resolve_signing

        config = resolve_signing(env="dev", secret_key=None, data_dir=self.data_dir).tokens()
        return {"Authorization": f"Bearer {issue_access_token(config, 'ops', roles=['admin'])}"}

    def login_headers(self) -> dict[str, str]:
        """Signed in as the first admin (the fixture's WEBOS_ADMIN_EMAIL), for gateways that
        run the auth module: they judge a token by the account it names."""
        body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        answer = httpx.post(f"{self.url}/api/auth/login", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def wait_ready(self, timeout: float = 30) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"webos run exited early:\n{self.process.stdout.read()}")
            try:
                response = httpx.get(f"{self.url}/ready", timeout=1)
                if response.status_code == 200:
                    return response
            except httpx.HTTPError as error:
                last = error
            time.sleep(0.1)
        raise AssertionError(f"gateway not ready within {timeout}s: {last}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    admin = {"WEBOS_ADMIN_EMAIL": ADMIN_EMAIL, "WEBOS_ADMIN_PASSWORD": ADMIN_PASSWORD}
    gw = Gateway(tmp_path, REPO_MODULES, admin)
    yield gw
    gw.kill()


@pytest.fixture
def make_gateway(tmp_path: Path) -> Iterator:
    made: list[Gateway] = []

    def make(modules_path: Path, **env: str) -> Gateway:
        gw = Gateway(tmp_path, modules_path, env)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.kill()
