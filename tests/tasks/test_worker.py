"""Tasks sent over HTTP run in a real ``webos worker`` process, as the caller, and survive it."""

import asyncio
import os
import signal
from pathlib import Path

from kernel.auth import Principal, use_principal
from kernel.tasks import TasksSubsystem, TaskState, wait_for_status
from kernel.testing import KernelHarness
from tests.tasks._modules import jobs_module

ADA = Principal(id="ada", kind="user", roles=frozenset({"user"}))
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_task_from_route_runs_in_worker_process_as_the_caller(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    webos.sign_in_as("admin")
    app = await webos.start(["jobs"], modules_path=modules)  # no in-process worker (NATS URL set)
    await webos.run_worker("jobs", modules_path=modules)

    response = await app.client.post("/api/jobs/whoami", headers={"traceparent": TRACE})

    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    status = await wait_for_status(app.kernel.get(TasksSubsystem).store, task_id)
    assert status.state is TaskState.SUCCEEDED, status
    assert status.result["user"] == "test-user"
    # The request's trace; inside the task the active span is the task's own (kernel.telemetry).
    assert status.result["traceparent"].split("-")[1] == TRACE.split("-")[1]
    assert status.result["correlation"] == status.correlation_id
    assert status.result["pid"] != os.getpid()
    # It said 0.5 on the way; done, it shows all of it (API, `webos`, console alike).
    assert status.progress == 1.0 and status.message == "looking"
    assert status.worker is not None and status.worker.startswith("worker-")
    seen = (await app.client.get(f"/api/system/tasks/{task_id}")).json()
    assert seen["state"] == "succeeded" and seen["result"]["user"] == "test-user"
    assert seen["progress"] == 1.0


async def test_tasks_sent_before_any_worker_runs_wait_for_one(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    app = await webos.start(["jobs"], modules_path=modules)
    from jobs.tasks import echo

    sent = [await echo.kiq(value) for value in range(5)]
    store = app.kernel.get(TasksSubsystem).store
    assert (await store.get(sent[0].task_id)).state is TaskState.QUEUED

    await webos.run_worker("jobs", modules_path=modules)

    results = [await wait_for_status(store, item.task_id) for item in sent]
    assert [status.result for status in results] == [{"value": value} for value in range(5)]


async def test_killed_worker_does_not_lose_its_task(webos: KernelHarness, tmp_path: Path) -> None:
    modules = jobs_module(tmp_path / "mods")
    marker = tmp_path / "attempt.txt"
    app = await webos.start(["jobs"], modules_path=modules)
    first = await webos.run_worker("jobs", modules_path=modules, WEBOS_TASKS_ACK_WAIT="1")
    from jobs.tasks import slow_once

    with use_principal(ADA):
        sent = await slow_once.kiq(str(marker))
    store = app.kernel.get(TasksSubsystem).store
    running = await wait_for_status(store, sent.task_id, done=False)
    for _ in range(200):  # until the first attempt is inside the task (a failure bound)
        if marker.exists() and running.state is TaskState.RUNNING:
            break
        await asyncio.sleep(0.05)
        running = await store.get(sent.task_id)
    assert marker.read_text() == f"1 {first.pid}"
    # A task that keeps running gets its "running" record, naming the worker and the caller.
    assert running.state is TaskState.RUNNING, running
    assert running.principal == "ada" and running.worker and running.started_at

    os.kill(first.pid, signal.SIGKILL)
    second = await webos.run_worker("jobs", modules_path=modules, WEBOS_TASKS_ACK_WAIT="1")

    status = await wait_for_status(store, sent.task_id)
    assert status.state is TaskState.SUCCEEDED, status
    assert status.result == "done on attempt 2 as ada"  # the redelivery kept the caller
    assert marker.read_text() == f"2 {second.pid}"


async def test_sigterm_lets_the_running_task_finish_and_takes_no_more(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    marker = tmp_path / "napping.txt"
    app = await webos.start(["jobs"], modules_path=modules)
    worker = await webos.run_worker("jobs", modules_path=modules)
    from jobs.tasks import echo, nap

    napping = await nap.kiq(str(marker), 1.5)
    store = app.kernel.get(TasksSubsystem).store
    for _ in range(200):  # until the task is inside its sleep (a failure bound)
        if marker.exists() and marker.read_text():  # created, then written: wait for both
            break
        await asyncio.sleep(0.05)
    assert marker.read_text() == str(worker.pid)

    assert await worker.stop(signal.SIGTERM) == 0
    finished = await store.get(napping.task_id)
    assert finished.state is TaskState.SUCCEEDED and finished.result == worker.pid

    later = await echo.kiq(1)  # sent after the worker left: it waits for the next one
    await asyncio.sleep(0.3)
    assert (await store.get(later.task_id)).state is TaskState.QUEUED
    await webos.run_worker("jobs", modules_path=modules)
    assert (await wait_for_status(store, later.task_id)).result == {"value": 1}


def test_delivery_count_and_stored_time_match_nats_py_metadata() -> None:
    from nats.aio.msg import Msg

    from kernel.tasks._worker import delivery_of

    stored_ns = 1_764_201_600_123_456_789
    for reply in (
        f"$JS.ACK.WEBOS_TASKS.tasks_jobs.3.41.40.{stored_ns}.7",
        f"$JS.ACK.hub.ACCHASH.WEBOS_TASKS.tasks_jobs.3.41.40.{stored_ns}.7.token",
    ):
        message = Msg(_client=None, subject="webos.tasks.jobs.echo.x", reply=reply)  # type: ignore[arg-type]
        expected = message.metadata
        assert delivery_of(message) == (3, expected.timestamp)
        assert expected.num_delivered == 3
