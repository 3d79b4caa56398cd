"""A failing task is retried with backoff, as its original caller, then recorded as failed."""

from pathlib import Path

from kernel.auth import Principal, use_principal
from kernel.tasks import TasksSubsystem, TaskState, wait_for_status
from kernel.testing import KernelHarness
from tests.tasks._modules import jobs_module

ADA = Principal(id="ada", kind="user", roles=frozenset({"user"}))


async def test_failing_task_retries_then_records_failure(
    webos: KernelHarness, tmp_path: Path
) -> None:
    modules = jobs_module(tmp_path / "mods")
    marker = tmp_path / "attempts.txt"
    app = await webos.start(["jobs"], modules_path=modules, tasks_worker=True)
    from jobs.tasks import flaky

    with use_principal(ADA):
        sent = await flaky.kiq(str(marker))

    status = await wait_for_status(app.kernel.get(TasksSubsystem).store, sent.task_id)
    assert status.state is TaskState.FAILED
    assert status.error == "ValueError: always broken"
    assert status.attempts == 3 and status.max_attempts == 3
    assert marker.read_text().splitlines() == ["1 ada", "2 ada", "3 ada"]
    result = await sent.wait_result(timeout=5)
    assert result.is_err and "always broken" in str(result.error)
