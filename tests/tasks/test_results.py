"""Results are JSON in NATS KV, read back without creating JetStream consumers."""

import asyncio
import json
from pathlib import Path

import nats
import pytest

from kernel.auth import Principal, use_principal
from kernel.tasks import TasksNotRunning, TasksSubsystem, TaskState, wait_for_status
from kernel.tasks._broker import TASKS_STREAM
from kernel.testing import KernelHarness
from tests.tasks._modules import jobs_module

ADA = Principal(id="ada", kind="user", roles=frozenset({"user"}))


async def _consumers(url: str) -> dict[str, int]:
    client = await nats.connect(url)
    try:
        return {
            info.config.name: info.state.consumer_count
            for info in await client.jetstream().streams_info()
        }
    finally:
        await client.close()


async def test_a_long_run_of_results_leaks_no_consumers(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    await webos.start(["jobs"], modules_path=modules, tasks_worker=True)
    from jobs.tasks import echo

    warm = await echo.kiq(-1)
    await warm.wait_result(timeout=10)
    before = await _consumers(webos.nats_url)

    sent = await asyncio.gather(*(echo.kiq(value) for value in range(300)))
    results = [await item.wait_result(timeout=30, check_interval=0.01) for item in sent]
    again = [await item.get_result() for item in sent]  # read each twice

    assert [result.return_value for result in results] == [{"value": v} for v in range(300)]
    assert [result.return_value for result in again] == [{"value": v} for v in range(300)]
    after = await _consumers(webos.nats_url)
    assert after == before
    assert after[TASKS_STREAM] == 1  # the module's one durable consumer


async def test_status_is_json_in_kv(webos: KernelHarness, tmp_path: Path) -> None:
    modules = jobs_module(tmp_path / "mods")
    app = await webos.start(["jobs"], modules_path=modules, tasks_worker=True)
    from jobs.tasks import echo

    sent = await echo.kiq(7)
    await sent.wait_result(timeout=10)
    entry = await app.kernel.get(TasksSubsystem).store.kv.get(sent.task_id)
    assert entry.value.startswith(b"{") and b'"result":{"value":7}' in entry.value


async def test_float_labels_travel_in_the_message_and_do_not_break_sending(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    app = await webos.start(["jobs"], modules_path=modules)
    collector = await app.subscribe("webos.tasks.>")
    from taskiq.kicker import AsyncKicker

    broker = await app.kernel.get(TasksSubsystem).opened()
    # taskiq's OpenTelemetry middleware adds float labels: they must not break sending.
    sent = await AsyncKicker("jobs.echo", broker, {"started": 1.5, "retry": 2}).kiq(1)

    message = await collector.next()
    assert message.subject == f"webos.tasks.jobs.echo.{sent.task_id}"
    assert message.headers["Nats-Msg-Id"] == sent.task_id
    labels = json.loads(message.data)["labels"]
    assert str(labels["started"]) == "1.5" and str(labels["retry"]) == "2"
    status = await app.kernel.get(TasksSubsystem).store.get(sent.task_id)
    assert status.state is TaskState.QUEUED and status.task == "jobs.echo"


async def test_queued_tasks_are_read_from_the_stream_with_their_sender(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    app = await webos.start(["jobs"], modules_path=modules)
    tasks = app.kernel.get(TasksSubsystem)
    from jobs.tasks import echo

    with use_principal(ADA):
        sent = await echo.kiq(5)
        more = [await echo.kiq(value) for value in (6, 7)]
    assert await tasks.store.recorded(sent.task_id) is None  # sending wrote no record
    status = await tasks.store.get(sent.task_id)
    assert status.state is TaskState.QUEUED and status.task == "jobs.echo"
    assert status.principal == ADA.id and status.correlation_id
    assert status.queued_at is not None
    listed = await tasks.recent(2)  # the oldest queued ones, in the order they were sent
    assert [item.id for item in listed] == [sent.task_id, more[0].task_id]
    assert await tasks.store.get("0" * 32) is None  # an id nobody sent

    await webos.run_worker("jobs", modules_path=modules)
    done = await wait_for_status(tasks.store, sent.task_id)
    assert done.state is TaskState.SUCCEEDED and done.principal == ADA.id
    for item in more:
        await wait_for_status(tasks.store, item.task_id)
    assert {item.state for item in await tasks.recent(10)} == {TaskState.SUCCEEDED}
    assert len(await tasks.recent(10)) == 3


async def test_sending_without_a_kernel_says_so(tmp_path: Path) -> None:
    from kernel.tasks import task

    @task
    async def lonely() -> None: ...

    with pytest.raises(TasksNotRunning, match="no WebOS kernel is running"):
        await lonely.kiq()


async def test_latest_records_come_newest_first_and_stop_at_the_limit(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    app = await webos.start(["jobs"], modules_path=modules, tasks_worker=True)
    store = app.kernel.get(TasksSubsystem).store
    from jobs.tasks import echo

    ids = []
    for value in range(5):
        sent = await echo.kiq(value)
        await wait_for_status(store, sent.task_id)
        ids.append(sent.task_id)

    assert [status.id for status in await store.latest(2)] == [ids[4], ids[3]]
    assert [status.id for status in await store.latest(10)] == ids[::-1]
    await store.kv.delete(ids[4])  # a deleted record is not listed
    assert [status.id for status in await store.latest(2)] == [ids[3], ids[2]]


async def test_latest_of_a_principal_reads_only_theirs_within_the_scan(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    app = await webos.start(["jobs"], modules_path=modules, tasks_worker=True)
    store = app.kernel.get(TasksSubsystem).store
    from jobs.tasks import echo

    sent: list[tuple[str, str]] = []
    for value, who in enumerate(("ada", "bob", "ada", "bob", "bob", "ada")):
        with use_principal(Principal(id=who, kind="user")):
            task = await echo.kiq(value)
        await wait_for_status(store, task.task_id)
        sent.append((who, task.task_id))
    adas = [task_id for who, task_id in reversed(sent) if who == "ada"]

    assert [s.id for s in await store.latest_of("ada", 10, scan=100)] == adas
    assert [s.id for s in await store.latest_of("ada", 2, scan=100)] == adas[:2]
    # The scan bounds the walk: only the last three records are read, one of them Ada's.
    assert [s.id for s in await store.latest_of("ada", 10, scan=3)] == adas[:1]
    assert await store.latest_of("eve", 10, scan=100) == []
