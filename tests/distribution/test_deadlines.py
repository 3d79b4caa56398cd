"""A caller's deadline travels with its calls: HTTP -> module A (a process) -> module B (another).

The gateway waits up to ``TIMEOUT`` (``WEBOS_REQUEST_TIMEOUT``); the client asks for ``DEADLINE``
with ``Request-Timeout``. B's method sleeps far past both, so every outcome compares against the
configured figures, never against how fast the machine is.
"""

import asyncio
import time
from pathlib import Path

import pytest

from kernel.forwarding import _client as forwarding_client
from kernel.testing import KernelHarness, write_module
from tests._late import wait_longer

BACK = """
import asyncio
from kernel import service
from kernel.context import time_left

SEEN = {"calls": 0, "left": [], "cancelled": 0}

@service("back")
class Back:
    async def nap(self, seconds: float) -> str:
        SEEN["calls"] += 1
        SEEN["left"].append(time_left())
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            SEEN["cancelled"] += 1
            raise
        return "rested"

    async def seen(self) -> dict:
        return SEEN
"""

FRONT = """
import asyncio
from litestar import get
from litestar.params import FromQuery
from litestar.response import Stream
from kernel import registry
from kernel.auth import PUBLIC
from kernel.context import time_left

SEEN = {"left": None, "late": None, "stuck": "running"}

@get("/relay", opt=PUBLIC)
async def relay(seconds: FromQuery[float]) -> dict:
    SEEN["left"] = time_left()
    return {"answer": await registry.get("back").nap(seconds)}

@get("/late", opt=PUBLIC)
async def late() -> dict:
    # Shielded work goes on when the route is cancelled at the deadline, deadline and all.
    SEEN["work"] = asyncio.ensure_future(call_after_the_deadline())
    await asyncio.shield(SEEN["work"])
    return {}

async def call_after_the_deadline() -> None:
    await asyncio.sleep(time_left() + 0.05)  # the gateway stopped waiting by then
    try:
        await registry.get("back").nap(0)
    except Exception as error:
        SEEN["late"] = f"{type(error).__name__}: {error}"
        return
    SEEN["late"] = "sent"

@get("/stuck", opt=PUBLIC)
async def stuck() -> dict:
    try:
        await asyncio.sleep(120)
    except asyncio.CancelledError:
        SEEN["stuck"] = "cancelled"
        raise
    return {}

@get("/stream", opt=PUBLIC)
async def stream(pause: FromQuery[float]) -> Stream:
    async def parts():
        yield b"started;"
        await asyncio.sleep(pause)  # past the deadline: the answer started before it passed
        yield (await registry.get("back").nap(0)).encode()
    return Stream(parts())

@get("/left", opt=PUBLIC)
async def left() -> dict:
    return {"left": time_left()}

@get("/seen", opt=PUBLIC)
async def seen() -> dict:
    return {key: value for key, value in SEEN.items() if key != "work"}
"""

TIMEOUT = 30.0
DEADLINE = 1.0
FOREVER = 120  # far past TIMEOUT; the harness kills the processes after the test


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "back", {"services.py": BACK})
    write_module(root, "front", {"router.py": FRONT})
    return root


async def _started(webos: KernelHarness, modules_path: Path):
    gateway = await webos.start(
        modules_path=modules_path, exclude=["front", "back"], request_timeout=TIMEOUT
    )
    await webos.run_module("back", modules_path=modules_path)
    await webos.run_module("front", modules_path=modules_path)
    return gateway


async def _eventually(check, what: str):
    for _ in range(200):  # a failure bound, not a timing assertion
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


async def test_a_deadline_reaches_the_second_hop_and_ends_its_work(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await _started(webos, modules_path)
    back = gateway.kernel.registry.get("back")

    started = time.monotonic()
    response = await gateway.client.get(
        "/api/front/relay",
        params={"seconds": FOREVER},
        headers={"Request-Timeout": str(DEADLINE)},
        timeout=TIMEOUT * 2,
    )
    waited = time.monotonic() - started

    assert response.status_code in (503, 504), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert waited < TIMEOUT / 2  # the client's deadline, not the gateway's 30 s
    front_left = (await gateway.client.get("/api/front/seen")).json()["left"]
    seen = await back.seen()
    assert seen["calls"] == 1
    assert 0 < seen["left"][0] < front_left <= DEADLINE
    # B stopped the call at the deadline instead of sleeping on for two minutes.
    assert await _eventually(
        lambda: _cancelled(back), "B cancel the call whose caller stopped waiting"
    )


async def _cancelled(back) -> bool:
    return (await back.seen())["cancelled"] == 1


async def test_a_call_made_after_the_deadline_fails_at_once_without_being_sent(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await _started(webos, modules_path)
    back = gateway.kernel.registry.get("back")

    response = await gateway.client.get(
        "/api/front/late", headers={"Request-Timeout": str(DEADLINE)}, timeout=TIMEOUT * 2
    )

    assert response.status_code in (503, 504), response.text

    async def late() -> str | None:
        return (await gateway.client.get("/api/front/seen")).json()["late"]

    outcome = await _eventually(late, "front's late call end")
    assert outcome.startswith("DeadlineExceeded: back.nap() was not sent"), outcome
    assert (await back.seen())["calls"] == 0  # it never reached B


async def test_a_malformed_request_timeout_is_a_400_naming_the_header(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(["back"], modules_path=modules_path)

    response = await gateway.client.get("/health", headers={"Request-Timeout": "soon"})

    assert response.status_code == 400
    assert "Request-Timeout" in response.json()["detail"]


async def test_a_forwarded_route_is_cancelled_at_the_gateways_deadline(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await _started(webos, modules_path)

    response = await gateway.client.get(
        "/api/front/stuck", headers={"Request-Timeout": str(DEADLINE)}, timeout=TIMEOUT * 2
    )

    assert response.status_code == 503, response.text

    async def stuck() -> bool:
        return (await gateway.client.get("/api/front/seen")).json()["stuck"] == "cancelled"

    assert await _eventually(stuck, "front cancel the route nobody waits for")


async def test_the_module_process_cutting_first_gives_the_client_the_gateways_own_503(
    webos: KernelHarness, modules_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = await _started(webos, modules_path)

    # The module process's timer and the gateway's wait end together; on a busy gateway the
    # module's answer ("cut at the deadline") comes first. Make it come first every time: the
    # deadline sent is the request's, but the gateway waits 5 s longer.
    wait_longer(monkeypatch, forwarding_client)
    response = await gateway.client.get(
        "/api/front/stuck", headers={"Request-Timeout": str(DEADLINE)}, timeout=TIMEOUT * 2
    )

    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # What the gateway says when its own wait ends first: the client cannot tell the two apart.
    assert "module 'front' did not answer within" in response.json()["detail"]


async def test_a_streamed_answer_outlives_the_deadline_and_its_calls_still_work(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await _started(webos, modules_path)

    response = await gateway.client.get(
        "/api/front/stream",
        params={"pause": DEADLINE * 1.5},
        headers={"Request-Timeout": str(DEADLINE)},
        timeout=TIMEOUT * 2,
    )

    assert response.status_code == 200
    assert response.content == b"started;rested"


async def test_request_timeout_shortens_the_deadline_and_never_lengthens_it(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(["front"], modules_path=modules_path, request_timeout=TIMEOUT)

    async def left(**headers: str) -> float:
        response = await gateway.client.get("/api/front/left", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["left"]

    assert TIMEOUT / 2 < await left() <= TIMEOUT
    assert 0 < await left(**{"Request-Timeout": str(DEADLINE)}) <= DEADLINE
    assert TIMEOUT / 2 < await left(**{"Request-Timeout": str(TIMEOUT * 100)}) <= TIMEOUT
