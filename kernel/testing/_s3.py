"""A real S3 endpoint for tests: ``moto_server`` in its own process on loopback.

A separate process (never moto's in-process decorator) so SDKs go through real HTTP and memory
measurements see only the test process. With ``enforce_auth`` the server checks signatures
against an IAM access key created at start, so wrong credentials really fail; moto answers 500 to
presigned URLs in that mode, and serves any presigned URL without it (it never checks their
signatures), so presigned tests use an open server behind ``presign_checking_front``
(``_s3front.py``), which does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kernel.testing._ports import free_port

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port
    access_key: str
    secret_key: str

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"


def _moto_binary() -> str:
    beside = Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        raise RuntimeError("moto_server not found: install moto[server] (the test extra)")
    return found


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not listen within 30 s; see {log}") from None
            time.sleep(0.05)


def _iam_key(port: int) -> tuple[str, str]:
    import boto3  # moto's own dependency: only needed with enforce_auth

    iam = boto3.client(
        "iam",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
        region_name="us-east-1",
    )
    iam.create_user(UserName="webos")
    iam.put_user_policy(UserName="webos", PolicyName="all", PolicyDocument=ALLOW_ALL)
    key = iam.create_access_key(UserName="webos")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@contextmanager
def moto_s3_server(log_dir: Path, *, enforce_auth: bool = False) -> Iterator[S3Server]:
    """Run ``moto_server`` on a free loopback port until the block ends."""
    port = free_port()
    log_path = Path(log_dir) / f"moto-{port}.log"
    env = dict(os.environ)
    if enforce_auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"  # the three IAM calls in _iam_key
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [_moto_binary(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            _wait_listening(proc, port, log_path)
            if enforce_auth:
                access, secret = _iam_key(port)
            else:
                access, secret = "any-access-key", "any-secret-key"
            yield S3Server(f"127.0.0.1:{port}", access, secret)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
