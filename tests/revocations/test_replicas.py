"""Logging out ends the session's access tokens on every gateway replica, not only on one.

The replicas are real ``webos run`` processes on the test's NATS server and data folder (so they
check tokens with the same keys); they run no modules, so they trust a token on its claims: only
the shared list of ended sessions can make them refuse one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from kernel.testing import KernelHarness, bearer, free_port, login, start_with_auth

WEBOS = str(Path(sys.executable).parent / "webos")


Replica = Callable[[], Awaitable[str]]


def _spawn(nats_url: str, data_dir: Path, folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    env.update(
        WEBOS_NATS_URL=nats_url,
        WEBOS_DATA_DIR=str(data_dir),
        WEBOS_MODULES_PATH=str(folder / "no-modules"),
        WEBOS_PORT=str(port),
    )
    with (folder / f"replica-{port}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [WEBOS, "run"], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT
        )


@pytest.fixture
async def replica(webos: KernelHarness, tmp_path: Path) -> AsyncIterator[Replica]:
    started: list[subprocess.Popen[bytes]] = []
    (tmp_path / "no-modules").mkdir()

    async def start() -> str:
        port = free_port()
        process = _spawn(webos.nats_url, webos.data_dir, tmp_path, port)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(300):  # a failure bound, not a timing claim
                assert process.poll() is None, (tmp_path / f"replica-{port}.log").read_text()
                try:
                    if (await client.get("/ready")).status_code == 200:
                        return url
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("the replica did not become ready")

    yield start
    for process in started:
        process.terminate()
        await asyncio.to_thread(process.wait, 15)


async def _status(url: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=url) as client:
        return (await client.get("/api/system/modules", headers=bearer(token))).status_code


async def test_logout_on_one_gateway_ends_the_session_on_the_others(
    webos: KernelHarness, replica: Replica
) -> None:
    app = await start_with_auth(webos, [])
    answer = (
        await app.client.post(
            "/api/auth/login",
            json={"email": "root@example.org", "password": "correct horse battery staple"},
        )
    ).json()
    token, refresh = answer["access_token"], answer["refresh_token"]
    other_session = await login(app)
    running = await replica()
    assert await _status(running, token) == 200

    out = await app.client.post("/api/auth/logout", json={"refresh_token": refresh})
    assert out.status_code == 204

    for _ in range(100):  # the replica hears of it within a NATS round trip; this is a bound
        if await _status(running, token) == 401:
            break
        await asyncio.sleep(0.05)
    assert await _status(running, token) == 401
    # A replica started after the logout reads the list before it serves anything.
    later = await replica()
    assert await _status(later, token) == 401
    # Only that session ended.
    assert await _status(running, other_session) == 200
    assert await _status(later, other_session) == 200
