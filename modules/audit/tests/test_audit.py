"""The audit module sees application events from any module and serves the newest first."""

import asyncio

from kernel import bus
from kernel.testing import KernelHarness


async def _events(app, **params) -> list[dict]:
    for _ in range(100):
        found = (await app.client.get("/api/audit/events", params=params)).json()
        if found:
            return found
        await asyncio.sleep(0.02)
    return []


async def test_the_log_needs_audit_read(webos: KernelHarness) -> None:
    """It lists auth.* events (e-mails, roles, API keys): anonymous callers see nothing."""
    app = await webos.start(["greeter", "audit"], roles='{"auditor": ["audit.read"]}')
    await bus.emit("auth.user_created", {"id": "u1", "roles": ["admin"]})
    anonymous = await app.client.get("/api/audit/events")
    plain = await app.client.get("/api/audit/events", headers=app.auth_headers(["user"]))
    assert (anonymous.status_code, plain.status_code) == (401, 403)
    assert "auth.user_created" not in anonymous.text + plain.text
    auditor = app.auth_headers(["auditor"])
    for _ in range(100):
        found = (await app.client.get("/api/audit/events", headers=auditor)).json()
        if found:
            break
        await asyncio.sleep(0.02)
    assert [e["subject"] for e in found] == ["auth.user_created"]


async def test_greeting_is_recorded(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["greeter", "audit"])

    await app.client.post("/api/greeter/hello", json={"name": "Ada"})

    [entry] = await _events(app)
    assert entry["subject"] == "greeter.greeted"
    assert entry["source"] == "greeter"
    assert entry["payload"]["name"] == "Ada"


async def test_newest_first_with_subject_filter_and_limit(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["audit"])
    for subject in ("shop.sold", "user.created", "shop.refunded", "webos.node.up"):
        await bus.emit(subject, {"s": subject})

    for _ in range(100):
        everything = (await app.client.get("/api/audit/events")).json()
        if len(everything) == 3:
            break
        await asyncio.sleep(0.02)
    assert [e["subject"] for e in everything] == ["shop.refunded", "user.created", "shop.sold"]
    shop = (await app.client.get("/api/audit/events", params={"subject": "shop.*"})).json()
    assert [e["subject"] for e in shop] == ["shop.refunded", "shop.sold"]
    one = (await app.client.get("/api/audit/events", params={"limit": 1})).json()
    assert len(one) == 1


async def test_bad_query_is_a_400_problem(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["audit"])
    too_many = await app.client.get("/api/audit/events", params={"limit": 5000})
    bad_subject = await app.client.get("/api/audit/events", params={"subject": "a..b"})
    assert too_many.status_code == 400
    assert bad_subject.status_code == 400
    assert "a..b" in bad_subject.json()["detail"]


async def test_replicas_give_the_same_answer(webos: KernelHarness) -> None:
    """As in the README: the gateway without audit, and audit run twice on its own."""
    webos.sign_in_as("admin")
    gateway = await webos.start(["greeter", "audit"], exclude=["audit"])
    await webos.run_module("audit")
    await webos.run_module("audit")

    for name in ("Ada", "Grace", "Edsger", "Barbara"):
        await gateway.client.post("/api/greeter/hello", json={"name": name})

    for _ in range(100):
        answers = [(await gateway.client.get("/api/audit/events")).json() for _ in range(8)]
        if all(len(answer) == 4 for answer in answers):
            break
        await asyncio.sleep(0.05)
    names = [[e["payload"]["name"] for e in answer] for answer in answers]
    # Every replica answers from the one log. Two replicas record concurrently, so events that
    # arrive together may be stored in either order: the answers agree, whatever that order.
    assert names == [names[0]] * 8
    assert sorted(names[0]) == ["Ada", "Barbara", "Edsger", "Grace"]


async def _greetings(app, expected: int) -> list[dict]:
    """Audit's greeting counts, once they add up to ``expected`` greetings."""
    for _ in range(200):  # a bound on failure, not a timing
        found = (await app.client.get("/api/audit/greetings")).json()
        if sum(entry["count"] for entry in found) >= expected:
            return found
        await asyncio.sleep(0.05)
    return found


async def test_greetings_are_counted_per_name(webos: KernelHarness) -> None:
    """Audit's typed consumer of greeter.greeted: the count a user sees, guarded like the log."""
    app = await webos.start(["greeter", "audit"])
    for name in ("Ada", "Grace", "Ada"):
        await app.client.post("/api/greeter/hello", json={"name": name})
    anonymous = await app.client.get("/api/audit/greetings")
    plain = await app.client.get("/api/audit/greetings", headers=app.auth_headers(["user"]))
    app.client.headers.update(app.auth_headers(["admin"]))

    assert (anonymous.status_code, plain.status_code) == (401, 403)
    assert await _greetings(app, 3) == [{"name": "Ada", "count": 2}, {"name": "Grace", "count": 1}]


async def test_greetings_are_counted_by_audit_running_standalone(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    gateway = await webos.start(["greeter", "audit"], exclude=["audit"])
    await webos.run_module("audit")

    for name in ("Ada", "Ada"):
        await gateway.client.post("/api/greeter/hello", json={"name": name})

    assert await _greetings(gateway, 2) == [{"name": "Ada", "count": 2}]


async def test_a_live_settings_change_is_recorded_with_who_made_it(webos: KernelHarness) -> None:
    """Kernel traffic is not recorded, but an operator's change of a module's settings is."""
    webos.sign_in_as("admin")
    app = await webos.start(["greeter", "audit"])

    saved = await app.client.put(
        "/api/system/settings/greeter", json={"values": {"greeting": "Salut"}}
    )

    assert saved.status_code == 200, saved.text
    [entry] = await _events(app, subject="webos.settings.updated")
    assert entry["payload"]["module"] == "greeter"
    assert entry["payload"]["fields"] == ["greeting"]
    assert entry["payload"]["by"]
