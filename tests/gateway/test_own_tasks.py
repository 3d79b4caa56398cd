"""``/api/tasks``: a signed-in caller follows the tasks they started, without ``system.read``."""

from __future__ import annotations

from kernel.tasks import TasksSubsystem, wait_for_status
from kernel.testing import KernelHarness, add_user, bearer, login, start_with_auth


async def test_a_user_reads_their_own_task_and_nobody_elses(webos: KernelHarness) -> None:
    app = await start_with_auth(webos, ["reports"], tasks_worker=True)
    admin = await login(app)
    ada_id, ada = await add_user(app, admin, "ada@example.org")
    _, bob = await add_user(app, admin, "bob@example.org")
    started = await app.client.post(
        "/api/reports/", json={"title": "Q3", "pages": 2}, headers=bearer(ada)
    )
    assert started.status_code == 202, started.text
    task_id = started.json()["task_id"]
    await wait_for_status(app.kernel.get(TasksSubsystem).store, task_id)

    own = await app.client.get(f"/api/tasks/{task_id}", headers=bearer(ada))
    assert own.status_code == 200, own.text
    assert own.json()["state"] == "succeeded"
    assert own.json()["principal"] == ada_id
    # Someone else is told nothing, not even that the task exists.
    other = await app.client.get(f"/api/tasks/{task_id}", headers=bearer(bob))
    assert other.status_code == 404
    assert other.json()["detail"] == (
        (await app.client.get("/api/tasks/no-such-task", headers=bearer(bob))).json()["detail"]
    ).replace("no-such-task", task_id)
    # The system view still needs system.read; an admin sees any task on both routes.
    refused = await app.client.get(f"/api/system/tasks/{task_id}", headers=bearer(ada))
    assert refused.status_code == 403
    for url in (f"/api/tasks/{task_id}", f"/api/system/tasks/{task_id}"):
        seen = await app.client.get(url, headers=bearer(admin))
        assert seen.status_code == 200, (url, seen.text)
    anonymous = await app.client.get(f"/api/tasks/{task_id}")
    assert anonymous.status_code == 401


async def test_mine_lists_the_callers_tasks_only_queued_and_done(webos: KernelHarness) -> None:
    # No worker at first: the tasks wait in the stream, and "mine" finds them there too.
    app = await start_with_auth(webos, ["reports"], tasks_worker=False)
    admin = await login(app)
    _, ada = await add_user(app, admin, "ada@example.org")
    _, bob = await add_user(app, admin, "bob@example.org")
    ids = {}
    for who, token, title in (("ada", ada, "first"), ("bob", bob, "other"), ("ada2", ada, "2nd")):
        sent = await app.client.post("/api/reports/", json={"title": title}, headers=bearer(token))
        assert sent.status_code == 202, sent.text
        ids[who] = sent.json()["task_id"]

    queued = (await app.client.get("/api/tasks/mine", headers=bearer(ada))).json()
    assert [(t["id"], t["state"]) for t in queued] == [
        (ids["ada2"], "queued"),
        (ids["ada"], "queued"),
    ]
    bobs = (await app.client.get("/api/tasks/mine", headers=bearer(bob))).json()
    assert [t["id"] for t in bobs] == [ids["bob"]]

    worker = await webos.run_worker("reports")
    store = app.kernel.get(TasksSubsystem).store
    for task_id in ids.values():
        await wait_for_status(store, task_id)
    done = (await app.client.get("/api/tasks/mine", headers=bearer(ada))).json()
    assert {t["id"]: t["state"] for t in done} == {
        ids["ada"]: "succeeded",
        ids["ada2"]: "succeeded",
    }
    assert all(t["result"]["requested_by"] == t["principal"] for t in done)
    # The admin's own list holds none of them: "mine" is who started it, not who may read it.
    assert (await app.client.get("/api/tasks/mine", headers=bearer(admin))).json() == []
    await worker.stop()
