"""A task too large to send, or whose result is too large to record, is refused with a clear
error: never sent for the server to close the connection, never run again and again."""

import re
from pathlib import Path

import pytest

from kernel.tasks import TasksSubsystem, TaskState, wait_for_status
from kernel.testing import KernelHarness, write_module
from kernel.transport import PayloadTooLarge

TASKS = """
from kernel.tasks import task

@task(retries=2, backoff=0.05)
async def big(size: int) -> str:
    return "x" * size

@task
async def length(text: str) -> int:
    return len(text)
"""


async def test_a_task_too_large_to_send_or_to_record_is_refused_once(
    webos: KernelHarness, tmp_path: Path
) -> None:
    root = tmp_path / "mods"
    write_module(root, "bulk", {"tasks.py": TASKS})
    app = await webos.start(["bulk"], modules_path=root, tasks_worker=True)
    tasks = app.kernel.get(TasksSubsystem)
    from bulk.tasks import big, length

    limit = app.nats.max_payload
    with pytest.raises(PayloadTooLarge, match="the NATS server accepts at most") as caught:
        await length.kiq("y" * limit)
    size = int(re.search(r"is ([\d,]+) bytes", str(caught.value))[1].replace(",", ""))
    room = limit - (size - limit)  # the text that fills a message, the rest counted
    # Its body alone fits (nats-py would send it); with its headers it does not.
    with pytest.raises(PayloadTooLarge):
        await length.kiq("y" * (room + 1))
    at_limit = await length.kiq("y" * room)
    assert (await wait_for_status(tasks.store, at_limit.task_id)).result == room
    sent = await big.kiq(limit)
    done = await wait_for_status(tasks.store, sent.task_id)

    assert done.state is TaskState.FAILED
    assert done.attempts == 1  # the same result would be as large on every attempt
    assert "its result is too large to record" in (done.error or "")
    small = await length.kiq("abc")
    assert (await wait_for_status(tasks.store, small.task_id)).result == 3
    assert app.kernel.bus.connected
