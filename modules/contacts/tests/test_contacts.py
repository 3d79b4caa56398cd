"""Documents from models.py are stored and read back through the module's routes."""

from kernel.testing import KernelHarness


async def test_writing_needs_contacts_write_and_reading_is_public(webos: KernelHarness) -> None:
    app = await webos.start(["contacts"], roles='{"clerk": ["contacts.write"]}')
    ada = {"name": "Ada", "email": "ada@example.org"}
    anonymous = await app.client.post("/api/contacts/", json=ada)
    plain = await app.client.post("/api/contacts/", json=ada, headers=app.auth_headers(["user"]))
    assert (anonymous.status_code, plain.status_code) == (401, 403)
    assert (await app.client.get("/api/contacts/")).json() == []  # nothing was stored

    clerk = app.auth_headers(["clerk"])
    created = await app.client.post("/api/contacts/", json=ada, headers=clerk)
    assert created.status_code == 201
    contact = f"/api/contacts/{created.json()['id']}"
    assert (await app.client.get(contact)).status_code == 200  # anyone reads
    assert (await app.client.delete(contact)).status_code == 401
    assert (await app.client.delete(contact, headers=clerk)).status_code == 204


async def test_contact_round_trip(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["contacts"])
    events = await app.subscribe("contacts.>")

    created = await app.client.post(
        "/api/contacts/", json={"name": "Ada", "email": "ada@example.org"}
    )

    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    fetched = await app.client.get(f"/api/contacts/{contact_id}")
    assert fetched.json() == {"id": contact_id, "name": "Ada", "email": "ada@example.org"}
    assert (await events.next()).json()["id"] == contact_id
    listed = await app.client.get("/api/contacts/")
    assert [c["name"] for c in listed.json()] == ["Ada"]


async def test_duplicate_email_in_any_case_is_a_409_problem(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["contacts"])
    await app.client.post("/api/contacts/", json={"name": "Ada", "email": "ada@example.org"})

    duplicate = await app.client.post(
        "/api/contacts/", json={"name": "A", "email": "ADA@example.org"}
    )

    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    # The field the caller sent, not the stored copy the unique index is on.
    assert duplicate.json()["fields"] == ["email"]
    assert duplicate.json()["detail"] == "a contact with this email already exists"
    assert len((await app.client.get("/api/contacts/")).json()) == 1


async def test_data_survives_a_restart(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    first = await webos.start(["contacts"])
    await first.client.post("/api/contacts/", json={"name": "Ada", "email": "ada@example.org"})
    await first.stop()

    second = await webos.start(["contacts"])

    assert [c["name"] for c in (await second.client.get("/api/contacts/")).json()] == ["Ada"]


async def test_unknown_contact_and_bad_email(webos: KernelHarness) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(["contacts"])
    missing = await app.client.get("/api/contacts/0123456789abcdef01234567")
    garbage = await app.client.get("/api/contacts/not-an-id")
    bad = await app.client.post("/api/contacts/", json={"name": "X", "email": "nope"})
    assert (missing.status_code, garbage.status_code, bad.status_code) == (404, 404, 400)


async def test_ready_reports_the_database(webos: KernelHarness) -> None:
    app = await webos.start(["contacts"])
    assert (await app.client.get("/ready")).status_code == 200
    database = next(s for s in app.kernel.subsystems if s.name == "database")
    assert database.client is not None
