"""A standalone module that does not answer in time, or is sent too much: what the caller sees.

The module process is real (``webos module run``); its slow service method and route sleep far
past the gateway's ``WEBOS_REQUEST_TIMEOUT``, so the outcome never depends on how fast the
machine is.
"""

from pathlib import Path

import pytest

from kernel.registry import ServiceUnavailable
from kernel.testing import KernelHarness, write_module

SERVICES = """
import asyncio
from kernel import service

@service("sleeper")
class Sleeper:
    async def nap(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "rested"
"""

ROUTER = """
import asyncio
from litestar import get, post
from litestar.params import FromQuery, JSONBody
from kernel.auth import PUBLIC

@get("/slow", opt=PUBLIC)
async def slow(seconds: FromQuery[float]) -> dict:
    await asyncio.sleep(seconds)
    return {"slept": seconds}

@post("/notes", opt=PUBLIC)
async def note(data: JSONBody[dict]) -> dict:
    return {"size": len(data.get("text", ""))}
"""

TIMEOUT = 2.0
FOREVER = 120  # far past TIMEOUT; the harness kills the process after the test


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "sleepy", {"services.py": SERVICES, "router.py": ROUTER})
    return root


async def test_a_service_call_past_the_timeout_is_service_unavailable(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(
        modules_path=modules_path, exclude=["sleepy"], request_timeout=TIMEOUT
    )
    await webos.run_module("sleepy", modules_path=modules_path)
    sleeper = gateway.kernel.registry.get("sleeper")

    with pytest.raises(ServiceUnavailable) as caught:
        await sleeper.nap(FOREVER)

    assert "service 'sleeper' did not answer nap()" in str(caught.value)
    assert await sleeper.nap(0) == "rested"  # the next call is answered as usual


async def test_a_forwarded_request_past_the_timeout_is_503_problem(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(
        modules_path=modules_path, exclude=["sleepy"], request_timeout=TIMEOUT
    )
    await webos.run_module("sleepy", modules_path=modules_path)

    stuck = await gateway.client.get("/api/sleepy/slow", params={"seconds": FOREVER})
    quick = await gateway.client.get("/api/sleepy/slow", params={"seconds": 0})

    assert stuck.status_code == 503
    assert stuck.headers["content-type"].startswith("application/problem+json")
    assert "module 'sleepy' did not answer" in stuck.json()["detail"]
    assert quick.status_code == 200 and quick.json() == {"slept": 0}


async def test_a_forwarded_body_over_the_limit_is_413_problem(
    webos: KernelHarness, modules_path: Path
) -> None:
    """Gateway and module process configured alike, as in a deployment (one environment)."""
    gateway = await webos.start(modules_path=modules_path, exclude=["sleepy"], max_body_size=1000)
    await webos.run_module("sleepy", modules_path=modules_path, WEBOS_MAX_BODY_SIZE="1000")

    too_large = await gateway.client.post("/api/sleepy/notes", json={"text": "x" * 2000})
    fits = await gateway.client.post("/api/sleepy/notes", json={"text": "x" * 900})

    assert too_large.status_code == 413
    assert too_large.headers["content-type"].startswith("application/problem+json")
    assert too_large.json()["status"] == 413
    assert fits.status_code == 201 and fits.json() == {"size": 900}
