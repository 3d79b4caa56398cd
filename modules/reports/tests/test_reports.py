"""The reports module: a route starts a task, the in-process worker runs it as the caller."""

from kernel.tasks import TasksSubsystem, wait_for_status
from kernel.testing import KernelHarness

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_route_starts_task_that_runs_as_the_caller(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["reports"], tasks_worker=True)

    response = await app.client.post(
        "/api/reports/", json={"title": "Q3", "pages": 2}, headers={"traceparent": TRACE}
    )

    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    store = app.kernel.get(TasksSubsystem).store
    await wait_for_status(store, task_id)
    status = await app.client.get(f"/api/system/tasks/{task_id}")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["state"] == "succeeded"
    assert body["progress"] == 1.0
    assert body["result"]["requested_by"] == "test-user"
    # The request's trace; inside the task the active span is the task's own (kernel.telemetry).
    assert body["result"]["traceparent"].split("-")[1] == TRACE.split("-")[1]
    assert body["principal"] == "test-user"


async def test_unknown_task_id_is_a_404_problem(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["reports"])

    response = await app.client.get("/api/system/tasks/nope")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
