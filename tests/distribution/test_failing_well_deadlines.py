"""Call policies under the caller's deadline (a real module process, ``test_failing_well``'s):
retries stop when no time is left for them, and a wait cut short by the deadline is the
caller's doing, so the breaker does not hold it against the service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kernel.context import current_deadline
from kernel.errors import DeadlineExceeded
from kernel.registry import ServiceUnavailable, call_stats
from kernel.registry import _remote as remote
from kernel.testing import KernelHarness, write_module
from tests._late import wait_longer
from tests.distribution.test_failing_well import BREAKER, MANIFEST, SERVICES

#: The caller's time, far shorter than the service's 1 s timeout and than ten retries' backoff.
DEADLINE = 0.5


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Work in progress that must be done within ``seconds``, as a served request's is."""
    token = current_deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        current_deadline.reset(token)


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "flaky", {"services.py": SERVICES}, manifest=MANIFEST)
    return root


async def _served_apart(webos: KernelHarness, modules_path: Path) -> Any:
    """The proxy, in the gateway, of ``flaky`` served by a module process of its own."""
    gateway = await webos.start(modules_path=modules_path, exclude=["flaky"])
    await webos.run_module("flaky", modules_path=modules_path)
    return gateway.kernel.registry.get("flaky")


def _stats() -> dict[str, Any]:
    return next(stats for stats in call_stats() if stats["service"] == "flaky")


@pytest.fixture
def tripping_path(tmp_path: Path) -> Path:
    root = tmp_path / "tripping"
    write_module(root, "flaky", {"services.py": SERVICES}, manifest=MANIFEST + BREAKER)
    return root


async def test_retries_stop_when_the_deadline_leaves_no_time_for_the_next(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(modules_path=modules_path, exclude=["flaky"])
    # No process runs it: every attempt fails at once with "no instance", which is retried;
    # ten retries back off for seconds, far past the deadline.
    flaky = gateway.kernel.registry.get("flaky").with_options(retries=10)

    with deadline(DEADLINE), pytest.raises(ServiceUnavailable) as caught:
        await flaky.read("a", failures=0)

    # Why it failed, said while the caller still listens; not a DeadlineExceeded after
    # sleeping out the caller's time.
    assert caught.value.reason == "no instance"
    stats = _stats()
    assert 1 <= stats["retries"] < 10


async def test_a_wait_cut_by_the_deadline_is_not_held_against_the_service(
    webos: KernelHarness, tripping_path: Path
) -> None:
    flaky = await _served_apart(webos, tripping_path)

    # Two hanging calls would open this breaker (two failures in a row) were they its failures.
    for _ in range(2):
        with deadline(DEADLINE), pytest.raises(DeadlineExceeded, match="before the deadline"):
            await flaky.work(hang=True)
    with deadline(DEADLINE), pytest.raises(DeadlineExceeded):
        await flaky.read("r", failures=5)  # idempotent, retries=3: a deadline is not retried

    assert await flaky.work(hang=False) == "done"  # the circuit stayed closed
    assert await flaky.seen_count("r") == 1
    stats = _stats()
    assert stats["breaker"] == "closed" and stats["transport_failures"] == 0


@pytest.fixture
def late_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """This side waits 5 s past what it sent with the call, as a busy caller's late timer would:
    the service's answer ("cut at the end of your wait") always comes first."""
    wait_longer(monkeypatch, remote)


@pytest.mark.usefixtures("late_waits")
async def test_a_call_the_service_cut_at_the_deadline_is_a_deadline_exceeded_for_the_caller(
    webos: KernelHarness, tripping_path: Path
) -> None:
    flaky = await _served_apart(webos, tripping_path)

    for _ in range(2):  # two failures in a row would open this breaker
        with deadline(DEADLINE), pytest.raises(DeadlineExceeded, match="before the deadline"):
            await flaky.work(hang=True)

    assert await flaky.work(hang=False) == "done"  # the circuit stayed closed
    stats = _stats()
    assert stats["breaker"] == "closed"
    assert (stats["transport_failures"], stats["remote_errors"]) == (0, 0)


@pytest.mark.usefixtures("late_waits")
async def test_a_call_the_service_cut_at_its_timeout_is_a_timeout_for_the_caller(
    webos: KernelHarness, modules_path: Path
) -> None:
    flaky = await _served_apart(webos, modules_path)

    # A deadline far off: the service's 1 s timeout is the wait sent, and the one that ends.
    with (
        deadline(30),
        pytest.raises(ServiceUnavailable, match=r"did not answer work\(\) within 1s"),
    ):
        await flaky.work(hang=True)

    stats = _stats()
    assert (stats["transport_failures"], stats["remote_errors"]) == (1, 0)
