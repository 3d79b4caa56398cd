"""The image's health check of non-HTTP processes: "a node on this host heartbeats on NATS"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from kernel.testing import KernelHarness
from tests.security.hostile import free_port

HEALTHCHECK = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"


def _node_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), "node"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_node_check_is_healthy_while_a_node_of_this_host_heartbeats(
    webos: KernelHarness, tmp_path: Path
) -> None:
    await webos.start(["greeter"])
    healthy = await asyncio.to_thread(_node_check, WEBOS_NATS_URL=webos.nats_url)
    nobody = await asyncio.to_thread(_node_check, WEBOS_NATS_URL=f"nats://127.0.0.1:{free_port()}")
    # On embedded defaults it reads the credentials `webos run` keeps; without them: unhealthy.
    no_credentials = await asyncio.to_thread(
        _node_check, WEBOS_DATA_DIR=str(tmp_path / "empty"), WEBOS_NATS_PORT=str(free_port())
    )
    assert healthy.returncode == 0, healthy.stderr
    assert nobody.returncode == 1, nobody.stderr
    assert no_credentials.returncode == 1, no_credentials.stderr
