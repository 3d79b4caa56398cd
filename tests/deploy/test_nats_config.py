"""`webos nats-config`: rights generated from manifests, enforced by a real nats-server."""

from __future__ import annotations

import contextlib
import hashlib
import json
import textwrap
from pathlib import Path

import nats
import pytest
from click.testing import CliRunner

from kernel.cli import main
from kernel.deploy import inspect_modules, module_permissions, nats_users
from kernel.deploy._fences import HTTP_SUBJECT, TASK_STATUS_BUCKET, TASKS_STREAM
from kernel.testing import KernelHarness, server_caught_up
from tests.security.hostile import module_process, secured_nats

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "modules"


def test_committed_config_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("WEBOS_MODULES_PATH", str(MODULES))
    result = CliRunner().invoke(main, ["nats-config", "--module", "audit"])
    assert result.exit_code == 0, result.output
    committed = (ROOT / "deploy/nats/nats.conf").read_text()
    assert result.output == committed, (
        "deploy/nats/nats.conf is stale: run `webos nats-config --module audit "
        "--out deploy/nats/nats.conf`"
    )


def test_no_password_in_the_config() -> None:
    text = (ROOT / "deploy/nats/nats.conf").read_text()
    passwords = [line.split(":", 1)[1].strip() for line in text.splitlines() if "password:" in line]
    assert passwords and all(value.startswith("$NATS_") for value in passwords)


def test_unknown_module_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_MODULES_PATH", str(MODULES))
    result = CliRunner().invoke(main, ["nats-config", "--module", "billing"])
    assert result.exit_code != 0
    assert "no module named 'billing'" in result.output and "greeter" in result.output


def test_kernel_constants_agree() -> None:
    from kernel.forwarding import HTTP_SUBJECT as forwarded

    assert forwarded == HTTP_SUBJECT
    tasks = pytest.importorskip("kernel.tasks._broker")
    store = pytest.importorskip("kernel.tasks._store")
    assert (TASKS_STREAM, TASK_STATUS_BUCKET) == (tasks.TASKS_STREAM, store.STATUS_BUCKET)


def test_module_rights_come_from_its_manifest() -> None:
    facts = inspect_modules(MODULES)
    greeter = module_permissions(facts["greeter"])
    assert "greeter.greeted" in greeter.publish
    others = {s for name, f in facts.items() if name != "greeter" for s in f.emits}
    assert not others & set(greeter.publish)
    assert ">" not in greeter.publish and "_INBOX.>" not in greeter.publish
    assert "webos.http.greeter" in greeter.subscribe
    assert "webos.http.audit" not in greeter.subscribe
    assert not any(s.startswith("$JS.API.CONSUMER") for s in greeter.publish)  # no durables
    assert "_INBOX_module-greeter.>" in greeter.subscribe  # its own replies, nobody else's
    assert not any(s.startswith("_INBOX.") for s in greeter.subscribe)
    assert "webos.tasks.greeter.>" in greeter.publish and "webos.tasks.>" not in greeter.publish
    assert "webos.circuit.>" in greeter.publish  # its service proxies' breaker events
    assert not any(s.startswith("$KV.") for s in greeter.publish)  # task status is read only


def test_a_wildcard_handler_keeps_its_own_kernel_subjects_and_no_others() -> None:
    users = {user.name: user for user in nats_users(inspect_modules(MODULES), ["audit"])}
    audit = users["module-audit"].permissions
    assert audit.subscribe == (">",)  # audit listens on '>'
    assert "webos.http.greeter" in audit.subscribe_deny and "_INBOX.>" in audit.subscribe_deny
    assert "_INBOX_gateway.>" in audit.subscribe_deny and "$JS.API.>" in audit.subscribe_deny
    assert "$JS.ACK.>" in audit.subscribe_deny and "$JS.EVENT.ADVISORY.API" in audit.subscribe_deny
    assert not [s for s in audit.subscribe_deny if "audit" in s]  # its HTTP, service, inbox
    # Another module's services: the queue group and each instance's own (shard-keyed) subjects.
    assert {"webos.svc.greeter.*", "webos.svc.greeter.*.*"} <= set(audit.subscribe_deny)


def _manifests(root: Path, **manifests: str) -> Path:
    for name, manifest in manifests.items():
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
        (root / name / "module.toml").write_text(f'name = "{name}"\n{manifest}')
    return root


def test_a_module_queues_the_tasks_of_the_modules_it_declares(tmp_path: Path) -> None:
    modules = _manifests(tmp_path, clerk='sends_tasks_to = ["vault"]\n', vault="")
    users = {user.name: user for user in nats_users(inspect_modules(modules))}
    clerk, vault = users["module-clerk"].permissions, users["module-vault"].permissions
    assert {"webos.tasks.clerk.>", "webos.tasks.vault.>"} <= set(clerk.publish)
    assert "webos.tasks.clerk.>" not in vault.publish


def test_sending_tasks_to_a_module_that_is_not_installed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "WEBOS_MODULES_PATH", str(_manifests(tmp_path, clerk='sends_tasks_to = ["valt"]\n'))
    )
    result = CliRunner().invoke(main, ["nats-config"])
    assert result.exit_code != 0
    assert "module 'clerk' sends tasks to 'valt', which is not installed" in result.output


def test_client_prints_the_configured_url_for_nats_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_NATS_URL", "nats://cli:s3cret@nats.example:4222")
    result = CliRunner().invoke(main, ["nats-config", "--client"])
    assert result.exit_code == 0, result.output
    assert result.output == "export NATS_URL=nats://cli:s3cret@nats.example:4222\n"


def _write_shop(root: Path) -> Path:
    """A module with a declared subject, a durable handler and a remotely callable service."""
    folder = root / "modules" / "deploy_shop"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "module.toml").write_text('name = "deploy_shop"\nemits = ["shop.booked"]\n')
    (folder / "events.py").write_text(
        textwrap.dedent(
            """
            from kernel import bus, on


            @on("shop.ordered", durable=True)
            async def book(order: dict) -> None:
                await bus.emit("shop.booked", order)
            """
        )
    )
    (folder / "services.py").write_text(
        textwrap.dedent(
            """
            from kernel import service


            @service("shop_stock")
            class Stock:
                async def count(self, sku: str) -> int:
                    return len(sku)

                async def reorder(self, sku: str) -> str:
                    from deploy_shop.tasks import restock
                    from kernel.tasks import active_tasks

                    sent = await restock.kiq(sku)
                    return (await active_tasks().status(sent.task_id)).state.value
            """
        )
    )
    (folder / "tasks.py").write_text(
        textwrap.dedent(
            """
            from kernel.tasks import task


            @task
            async def restock(sku: str) -> str:
                return sku
            """
        )
    )
    return folder.parent


async def test_module_user_cannot_publish_outside_its_subjects(tmp_path: Path) -> None:
    facts = inspect_modules(MODULES)
    users = {user.name: user for user in nats_users(facts, ["greeter", "audit"])}
    with secured_nats(list(users.values()), tmp_path) as server:
        errors: list[Exception] = []

        async def on_error(error: Exception) -> None:
            errors.append(error)

        watcher = await nats.connect(server.url(users["cli"]))
        greeter = await nats.connect(server.url(users["module-greeter"]), error_cb=on_error)
        audit = await nats.connect(server.url(users["module-audit"]), error_cb=on_error)
        try:
            seen = await watcher.subscribe(">")
            await server_caught_up(watcher)
            await greeter.publish("greeter.greeted", b'{"own": true}')
            await greeter.publish("auth.logged_in", b'{"forged": true}')  # auth's subject
            await greeter.publish("contacts.created", b'{"forged": true}')
            await audit.publish("greeter.greeted", b'{"forged": true}')  # audit emits nothing
            await audit.publish("webos.http.greeter", b"{}")  # not its HTTP subject
            for client in (greeter, audit):  # a round trip: the server's -ERR arrives first
                with contextlib.suppress(Exception):
                    await client.flush(timeout=2)
            delivered = []
            # The allowed publish surely comes (a busy machine may take seconds); once it has,
            # half a second more shows that nothing refused came after it.
            wait = 10.0
            while True:
                try:
                    msg = await seen.next_msg(timeout=wait)
                except nats.errors.TimeoutError:
                    break
                delivered.append((msg.subject, msg.data))
                wait = 0.5
        finally:
            for client in (watcher, greeter, audit):
                await client.close()
        assert delivered == [("greeter.greeted", b'{"own": true}')]
        text = " ".join(str(error) for error in errors).lower()
        assert 'permissions violation for publish to "auth.logged_in"' in text
        assert 'permissions violation for publish to "contacts.created"' in text
        violations = " ".join(server.violations())
        for subject in ("auth.logged_in", "contacts.created", "greeter.greeted"):
            assert subject in violations
        assert "webos.http.greeter" in violations


async def test_module_process_works_under_its_own_user(tmp_path: Path) -> None:
    """`webos module run` with durable handlers and services needs nothing beyond its rights."""
    modules_path = _write_shop(tmp_path)
    facts = inspect_modules(modules_path)
    assert facts["deploy_shop"].consumers == ("deploy_shop__book",)
    users = {user.name: user for user in nats_users(facts, ["deploy_shop"])}
    with secured_nats(list(users.values()), tmp_path) as server:
        cli_url = server.url(users["cli"])
        # The gateway creates the streams and the module's durable consumer; the module binds.
        gateway = KernelHarness(server.url(users["gateway"]), tmp_path / "data", modules_path)
        await gateway.start(exclude=["deploy_shop"])
        async with module_process(server, users, "deploy_shop", modules_path, tmp_path) as shop:
            cli = await nats.connect(cli_url)
            try:
                booked = await cli.subscribe("shop.booked")
                await cli.publish(
                    "shop.ordered", b'{"sku": "lamp"}', headers={"Nats-Msg-Id": "order-1"}
                )
                msg = await booked.next_msg(timeout=10)
                assert json.loads(msg.data) == {"sku": "lamp"}
                reply = await cli.request(
                    "webos.svc.shop_stock.count", b'{"args": {"sku": "lamp"}}', timeout=5
                )
                assert json.loads(reply.data) == {"result": 4}
                # Sending a task and reading its status (queued: no worker runs) are allowed.
                reply = await cli.request(
                    "webos.svc.shop_stock.reorder", b'{"args": {"sku": "lamp"}}', timeout=5
                )
                assert json.loads(reply.data) == {"result": "queued"}, reply.data
                pong = await cli.request("$SRV.PING.webos-deploy_shop", b"", timeout=5)
                assert json.loads(pong.data)["name"] == "webos-deploy_shop"
            finally:
                await cli.close()
        await gateway.close()
        output = shop.output()
        assert server.violations() == [], output
        assert "violation" not in output.lower(), output
        assert shop.code == 0, output


STREAM_ROUTER = """
import hashlib
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Stream
from kernel.auth import PUBLIC
from kernel.testing import pattern

@post("/digest", opt=PUBLIC, request_max_body_size=None, status_code=200)
async def digest(request: Request) -> dict:
    sha = hashlib.sha256()
    async for piece in request.stream():
        sha.update(piece)
    return {"sha256": sha.hexdigest()}

@get("/download/{size:int}", opt=PUBLIC)
async def download(size: FromPath[int]) -> Stream:
    return Stream(pattern(size, chunk=64 * 1024))
"""


async def test_streamed_forwarding_needs_nothing_beyond_the_module_users_rights(
    tmp_path: Path,
) -> None:
    """Chunked uploads and downloads through the gateway: the module answers each frame once."""
    from kernel.testing import KernelHarness, pattern

    folder = tmp_path / "modules" / "deploy_stream"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "module.toml").write_text('name = "deploy_stream"\n')
    (folder / "router.py").write_text(STREAM_ROUTER)
    modules_path = folder.parent
    users = {user.name: user for user in nats_users(inspect_modules(modules_path))}
    with secured_nats(list(users.values()), tmp_path) as server:
        harness = KernelHarness(server.url(users["gateway"]), tmp_path / "data", modules_path)
        async with module_process(server, users, "deploy_stream", modules_path, tmp_path) as module:
            try:
                gateway = await harness.start(exclude=["deploy_stream"])
                size = 3 * 1024 * 1024 + 5
                sent = hashlib.sha256()
                uploaded = await gateway.client.post(
                    "/api/deploy_stream/digest", content=pattern(size, digest=sent)
                )
                downloaded = await gateway.client.get(f"/api/deploy_stream/download/{size}")
                expected = hashlib.sha256()
                async for _ in pattern(size, chunk=64 * 1024, digest=expected):
                    pass
            finally:
                await harness.close()
        output = module.output()
        assert uploaded.json() == {"sha256": sent.hexdigest()}, uploaded.text
        assert hashlib.sha256(downloaded.content).hexdigest() == expected.hexdigest()
        assert server.violations() == [], output
        assert "violation" not in output.lower(), output
