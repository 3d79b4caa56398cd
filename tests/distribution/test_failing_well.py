"""Call policies against a real module process: retries, breaker, bulkhead, fallback, options.

Every failure here is a real transport failure: the module's method hangs far past a short
policy timeout (so the outcome never depends on the machine's speed), or no process serves it.
The module counts what it saw (attempts, calls in flight), and the test asks it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from kernel.registry import CircuitState, RemoteServiceError, ServiceUnavailable, call_stats
from kernel.testing import KernelHarness, write_module

SERVICES = """
import asyncio
from kernel import fallback, service

FOREVER = 120  # far past every timeout below; the harness kills the process after the test

@service("flaky", concurrency=4)
class Flaky:
    def __init__(self):
        self.seen = {}
        self.now = 0
        self.peak = 0

    async def _count(self, key: str) -> int:
        self.seen[key] = self.seen.get(key, 0) + 1
        return self.seen[key]

    @service(idempotent=True, retries=3)
    async def read(self, key: str, failures: int) -> int:
        attempt = await self._count(key)
        if attempt <= failures:
            await asyncio.sleep(FOREVER)
        return attempt

    @service(retries=3)  # retries configured, but not idempotent: never sent twice
    async def write(self, key: str, failures: int) -> int:
        attempt = await self._count(key)
        if attempt <= failures:
            await asyncio.sleep(FOREVER)
        return attempt

    async def boom(self, key: str) -> int:
        await self._count(key)
        raise ValueError("no such account")

    async def seen_count(self, key: str) -> int:
        return self.seen.get(key, 0)

    async def work(self, hang: bool) -> str:
        if hang:
            await asyncio.sleep(FOREVER)
        return "done"

    async def busy(self, seconds: float) -> int:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.now -= 1
        return self.peak

    async def peak_in_flight(self) -> int:
        return self.peak

    @fallback({"status": "queued"})
    async def status(self) -> dict:
        return {"status": "live"}
"""

MANIFEST = """
version = "0.1.0"

[services.flaky]
timeout = 1.0
"""
#: A breaker that opens after two failures in a row and tries again two seconds later (long
#: enough that the call right after it opened is refused even on a busy machine).
BREAKER = """
breaker = {min_calls = 2, window = 4, failure_ratio = 0.5, cooldown = 2.0}
"""


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "flaky", {"services.py": SERVICES}, manifest=MANIFEST)
    return root


@pytest.fixture
def tripping_path(tmp_path: Path) -> Path:
    root = tmp_path / "tripping"
    write_module(root, "flaky", {"services.py": SERVICES}, manifest=MANIFEST + BREAKER)
    return root


def _stats(service: str) -> dict[str, object]:
    return next(stats for stats in call_stats() if stats["service"] == service)


async def _flaky(webos: KernelHarness, modules_path: Path, *, run: bool = True) -> object:
    gateway = await webos.start(modules_path=modules_path, exclude=["flaky"])
    if run:
        await webos.run_module("flaky", modules_path=modules_path)
    return gateway.kernel.registry.get("flaky")


async def test_an_idempotent_method_is_retried_until_it_succeeds(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _flaky(webos, modules_path)

    # Two timeouts, then the third attempt answers (a fourth only if the machine stalled a
    # whole second: the answer is still the last attempt's).
    answered_by = await flaky.read("a", failures=2)
    assert answered_by in (3, 4)
    assert await flaky.seen_count("a") == answered_by


async def test_a_method_not_marked_idempotent_is_sent_once(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _flaky(webos, modules_path)

    with pytest.raises(ServiceUnavailable) as caught:
        await flaky.write("b", failures=1)

    assert caught.value.reason == "timeout"
    assert await flaky.seen_count("b") == 1


async def test_a_remote_exception_is_never_retried(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _flaky(webos, modules_path)

    with pytest.raises(RemoteServiceError, match="no such account"):
        await flaky.with_options(idempotent=True, retries=3).boom("c")

    assert await flaky.seen_count("c") == 1


async def test_remote_exceptions_never_open_the_circuit(
    webos: KernelHarness, tripping_path: Path
) -> None:
    """The service answered each time: cutting callers off it would turn bad input into an
    outage."""
    gateway = await webos.start(modules_path=tripping_path, exclude=["flaky"])
    await webos.run_module("flaky", modules_path=tripping_path)
    flaky = gateway.kernel.registry.get("flaky")

    for _ in range(4):  # twice what opens this breaker, were they transport failures
        with pytest.raises(RemoteServiceError):
            await flaky.boom("d")

    assert await flaky.work(hang=False) == "done"
    assert _stats("flaky")["breaker"] == CircuitState.CLOSED
    assert _stats("flaky")["remote_errors"] == 4


async def test_a_hanging_module_opens_the_circuit_which_closes_after_the_cool_down(
    webos: KernelHarness, tripping_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "webos.registry")
    gateway = await webos.start(modules_path=tripping_path, exclude=["flaky"])
    await webos.run_module("flaky", modules_path=tripping_path)
    events = await gateway.subscribe("webos.circuit.>")
    flaky = gateway.kernel.registry.get("flaky")

    for _ in range(2):
        with pytest.raises(ServiceUnavailable, match="did not answer"):
            await flaky.work(hang=True)
    with pytest.raises(ServiceUnavailable) as refused:
        await flaky.work(hang=False)  # would succeed, but is not sent

    assert refused.value.reason == "circuit open"
    opened = await events.next()
    assert opened.subject == "webos.circuit.opened"
    assert opened.json()["service"] == "flaky"
    assert opened.json()["caller"] == gateway.kernel.node_id
    assert "circuit of service 'flaky' open" in caplog.text

    reasons = set()
    for _ in range(400):  # bounded: the cool-down is 2 s
        try:
            answer = await flaky.work(hang=False)
            break
        except ServiceUnavailable as error:
            reasons.add(error.reason)
            await asyncio.sleep(0.05)
    else:
        pytest.fail("the circuit never closed")

    assert answer == "done" and reasons == {"circuit open"}

    stats = _stats("flaky")
    assert stats["breaker"] == CircuitState.CLOSED
    assert stats["rejected"] >= 1 and stats["transport_failures"] == 2
    subjects = [(await events.next()).subject for _ in range(2)]
    assert subjects == ["webos.circuit.half_open", "webos.circuit.closed"]


async def test_a_hundred_calls_never_put_more_than_concurrency_in_flight(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _flaky(webos, modules_path)
    patient = flaky.with_options(timeout=60)

    await asyncio.gather(*(patient.busy(0.02) for _ in range(100)))

    peak = await flaky.peak_in_flight()
    assert 1 <= peak <= 4


async def test_a_full_bulkhead_fails_with_a_clear_error_after_the_timeout(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _flaky(webos, modules_path)
    holding = flaky.with_options(timeout=60)
    hanging = [asyncio.create_task(holding.work(hang=True)) for _ in range(4)]
    try:
        for _ in range(200):  # bounded: until the four hold every slot
            if _stats("flaky")["in_flight"] == 4:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(ServiceUnavailable) as caught:
            await flaky.with_options(timeout=0.2).work(hang=False)
    finally:
        for task in hanging:
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)

    assert caught.value.reason == "too many calls in flight"
    assert "too many calls in flight (4 from this process)" in str(caught.value)


async def test_the_fallback_is_returned_when_the_module_is_down(
    webos: KernelHarness, modules_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = await _flaky(webos, modules_path, run=False)
    caplog.set_level(logging.WARNING, "webos.registry")

    assert await flaky.status() == {"status": "queued"}
    assert await flaky.with_options(fallback=lambda: {"status": "cached"}).status() == {
        "status": "cached"
    }
    assert "service call flaky.status failed (no instance" in caplog.text
    assert "returned its fallback" in caplog.text
    with pytest.raises(ServiceUnavailable):  # no fallback on this one
        await flaky.work(hang=False)


async def test_with_options_timeout_overrides_the_policy(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _flaky(webos, modules_path)

    with pytest.raises(ServiceUnavailable, match=r"within 0\.3s"):
        await flaky.with_options(timeout=0.3).work(hang=True)
    with pytest.raises(TypeError, match="unknown call option 'timout'"):
        flaky.with_options(timout=1)


async def test_the_callers_service_policies_setting_wins_over_the_manifest(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(
        modules_path=modules_path,
        exclude=["flaky"],
        service_policies={"flaky": {"timeout": 0.3}},  # WEBOS_SERVICE_POLICIES; the manifest: 1.0
    )
    await webos.run_module("flaky", modules_path=modules_path)
    flaky = gateway.kernel.registry.get("flaky")

    with pytest.raises(ServiceUnavailable, match=r"within 0\.3s"):
        await flaky.work(hang=True)
