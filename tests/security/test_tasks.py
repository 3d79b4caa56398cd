"""Tasks across modules: a module queues its own tasks and those its manifest names in
``sends_tasks_to``; only workers and the gateway write task status."""

from __future__ import annotations

import asyncio
import importlib
import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import httpx

from kernel.testing import KernelHarness, RunningKernel, write_module
from tests.security.conftest import STANDALONE, Deployment
from tests.security.hostile import intruder


def _task_message(name: str, task_id: str) -> bytes:
    """A taskiq message as ``kiq`` sends it, written by hand as an intruder would."""
    body = {"task_id": task_id, "task_name": name, "labels": {}, "labels_types": {}}
    return json.dumps({**body, "args": ["forged"], "kwargs": {}}).encode()


async def _status(gateway: RunningKernel, task_id: str) -> httpx.Response:
    return await gateway.client.get(f"/api/system/tasks/{task_id}", headers=gateway.auth_headers())


async def test_a_module_queues_only_its_own_tasks_and_those_it_declares(
    deployment: Deployment,
) -> None:
    gateway = await deployment.harness.start(exclude=STANDALONE)
    spied, own, declared = (uuid.uuid4().hex for _ in range(3))
    async with (
        intruder(deployment.server, "module-spy") as spy,
        intruder(deployment.server, "module-clerk") as clerk,
    ):
        await spy.publish(f"webos.tasks.vault.seal.{spied}", _task_message("vault.seal", spied))
        await spy.publish(f"webos.tasks.spy.snoop.{own}", _task_message("spy.snoop", own))
        await clerk.publish(
            f"webos.tasks.vault.seal.{declared}", _task_message("vault.seal", declared)
        )

    assert await deployment.server.refused(
        "module-spy", "Publish", f"webos.tasks.vault.seal.{spied}"
    )
    assert (await _status(gateway, spied)).status_code == 404
    assert (await _status(gateway, own)).json()["state"] == "queued"
    assert (await _status(gateway, declared)).json()["state"] == "queued"
    assert deployment.server.violations("module-clerk") == []


async def _finished(gateway: RunningKernel, task_id: str) -> dict[str, Any]:
    for _ in range(200):  # a failure bound, not a speed requirement
        answer = await _status(gateway, task_id)
        if answer.status_code == 200 and answer.json()["state"] == "succeeded":
            return answer.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish: {answer.text}")


async def test_only_workers_and_the_gateway_write_task_status(deployment: Deployment) -> None:
    gateway = await deployment.harness.start(exclude=["spy", "clerk", "shop"], tasks_worker=True)
    sent = await importlib.import_module("vault.tasks").seal.kiq("lamp")
    real = await _finished(gateway, sent.task_id)
    forged = json.dumps({**real, "result": "forged", "worker": "nobody"}).encode()
    subject = f"$KV.WEBOS_TASK_STATUS.{sent.task_id}"
    # The task's own module, a wildcard listener and the scheduler all try to rewrite it.
    for user in ("module-vault", "module-spy", "scheduler"):
        async with intruder(deployment.server, user) as hostile:
            await hostile.publish(subject, forged)

    for user in ("module-vault", "module-spy", "scheduler"):
        assert await deployment.server.refused(user, "Publish", subject), user
    shown = (await _status(gateway, sent.task_id)).json()
    assert shown["result"] == "sealed lamp" and shown["worker"] == real["worker"]


ROUTER = """
from litestar import post
from kernel.auth import PUBLIC

@post("/seal", opt=PUBLIC, status_code=200)
async def seal() -> dict:
    from vault.tasks import seal as vault_seal

    sent = await vault_seal.kiq("by {name}")
    return {{"task_id": sent.task_id}}
"""


async def test_a_module_process_refuses_to_queue_tasks_it_does_not_declare(
    webos: KernelHarness, tmp_path: Path
) -> None:
    """Dev fails like prod: where its NATS user would be refused, the module process says why."""
    modules = tmp_path / "modules"
    write_module(modules, "vault", {"tasks.py": textwrap.dedent(_vault_tasks())})
    write_module(modules, "nosy", {"router.py": ROUTER.format(name="nosy")})
    write_module(
        modules,
        "clerk",
        {"router.py": ROUTER.format(name="clerk")},
        manifest='name = "clerk"\nsends_tasks_to = ["vault"]\n',
    )
    nosy = await webos.run_module("nosy", modules_path=modules)
    await webos.run_module("clerk", modules_path=modules)
    gateway = await webos.start(modules_path=modules, exclude=["nosy", "clerk"])

    refused = await gateway.client.post("/api/nosy/seal")
    declared = await gateway.client.post("/api/clerk/seal")

    assert refused.status_code == 500
    assert "Add 'vault' to sends_tasks_to" in nosy.output()
    assert declared.status_code == 200, declared.text
    assert (await _status(gateway, declared.json()["task_id"])).status_code == 200


def _vault_tasks() -> str:
    return """
        from kernel.tasks import task

        @task
        async def seal(word: str) -> str:
            return f"sealed {word}"
        """
