"""The greeter module, through real HTTP and a real NATS subscriber."""

from kernel.testing import KernelHarness


async def test_hello_answers_and_emits_greeted_event(webos: KernelHarness) -> None:
    app = await webos.start(["greeter"])
    events = await app.subscribe("greeter.>")

    response = await app.client.post("/api/greeter/hello", json={"name": "Ada"})

    assert response.status_code == 200, response.text
    assert response.json()["greeting"] == "Hello, Ada!"
    event = await events.next()
    assert event.subject == "greeter.greeted"
    assert event.json() == {"name": "Ada", "greeting": "Hello, Ada!"}
    assert event.headers["webos-source"] == "greeter"
    assert event.headers["webos-event-id"] == response.json()["event_id"]


async def test_greeting_comes_from_module_settings(webos: KernelHarness, monkeypatch) -> None:
    monkeypatch.setenv("WEBOS_MOD_GREETER_GREETING", "Bonjour")
    app = await webos.start(["greeter"])

    response = await app.client.post("/api/greeter/hello", json={"name": "Ada"})

    assert response.json()["greeting"] == "Bonjour, Ada!"


async def test_blank_name_is_a_400_problem(webos: KernelHarness) -> None:
    app = await webos.start(["greeter"])
    events = await app.subscribe("greeter.>")

    response = await app.client.post("/api/greeter/hello", json={"name": "   "})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert any("name" in str(error) for error in body["errors"])
    assert events.drain() == []
