"""The data explorer's JSON API on the contacts module: lists, errors per field, permissions."""

from __future__ import annotations

import base64

from kernel.testing import KernelHarness, RunningKernel

ROLES = (
    '{"reader": ["contacts.contact.read"],'
    ' "editor": ["contacts.contact.read", "contacts.contact.write"],'
    ' "clerk": ["contacts.write", "contacts.read"]}'
)
CONTACTS = "/api/contacts/admin/contact"
NAMES = ["Grace", "ada", "Edsger", "Barbara", "Alan", "Donald", "Frances"]


async def _started(webos: KernelHarness) -> tuple[RunningKernel, dict[str, str]]:
    app = await webos.start(["contacts"], roles=ROLES)
    editor = app.auth_headers(["editor"])
    for name in NAMES:
        body = {"name": name, "email": f"{name.lower()}@example.org"}
        created = await app.client.post(CONTACTS, json=body, headers=editor)
        assert created.status_code == 201, created.text
    return app, editor


async def _all_pages(app: RunningKernel, headers: dict[str, str], query: str) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(10):
        suffix = f"&cursor={cursor}" if cursor else ""
        page = await app.client.get(f"{CONTACTS}?{query}&limit=3{suffix}", headers=headers)
        assert page.status_code == 200, page.text
        assert len(page.json()["records"]) <= 3
        names += [record["name"] for record in page.json()["records"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return names
    raise AssertionError("the cursor never ended")


async def test_sorting_filtering_search_and_cursor_pages(webos: KernelHarness) -> None:
    app, editor = await _started(webos)
    reader = app.auth_headers(["reader"])

    # Pages of three by cursor: every record once, in order, both ways.
    assert await _all_pages(app, reader, "sort=name") == sorted(NAMES)
    assert await _all_pages(app, reader, "sort=-name") == sorted(NAMES, reverse=True)
    # A field equals a value; search is case-insensitive over the model's search fields.
    ada = await app.client.get(f"{CONTACTS}?name=ada", headers=reader)
    assert [r["email"] for r in ada.json()["records"]] == ["ada@example.org"]
    found = await app.client.get(f"{CONTACTS}?q=AL&sort=name", headers=reader)
    assert [r["name"] for r in found.json()["records"]] == ["Alan", "Donald"]
    # Records created between two pages neither repeat nor vanish.
    first = await app.client.get(f"{CONTACTS}?sort=name&limit=2", headers=reader)
    body = {"name": "Aaron", "email": "aaron@example.org"}
    assert (await app.client.post(CONTACTS, json=body, headers=editor)).status_code == 201
    cursor = first.json()["next_cursor"]
    rest = await app.client.get(f"{CONTACTS}?sort=name&limit=20&cursor={cursor}", headers=reader)
    assert [r["name"] for r in rest.json()["records"]] == sorted(NAMES)[2:]


async def test_bad_queries_are_clear_400s(webos: KernelHarness) -> None:
    app, _ = await _started(webos)
    reader = app.auth_headers(["reader"])
    first = await app.client.get(f"{CONTACTS}?sort=name&limit=2", headers=reader)
    cursor = first.json()["next_cursor"]
    oid = first.json()["records"][0]["id"].encode()
    smuggled = base64.urlsafe_b64encode(b'["name", {"$ne": null}, {"$oid": "%s"}]' % oid).decode()
    bad_id = base64.urlsafe_b64encode(b'["name", "Ada", {"$oid": "0"}]').decode()

    cases = {
        "sort=email_key": "cannot sort contacts.contact by 'email_key'",  # hidden: no probing
        "email_key=ada@example.org": "cannot filter contacts.contact by 'email_key'",
        "created_at=yesterday": "filter created_at='yesterday'",
        f"sort=-name&cursor={cursor}": "sorted by '-name'",  # a cursor of another order
        "cursor=not-a-cursor": "not a cursor",
        f"sort=name&cursor={smuggled}": "not a cursor",
        f"sort=name&cursor={bad_id}": "not a cursor",
    }
    for query, message in cases.items():
        answer = await app.client.get(f"{CONTACTS}?{query}", headers=reader)
        assert answer.status_code == 400, (query, answer.text)
        assert message in answer.json()["detail"], (query, answer.json())


async def test_invalid_and_duplicate_records_are_field_errors(webos: KernelHarness) -> None:
    app = await webos.start(["contacts"], roles=ROLES)
    editor = app.auth_headers(["editor"])
    ada = {"name": "Ada", "email": "ada@example.org"}
    assert (await app.client.post(CONTACTS, json=ada, headers=editor)).status_code == 201

    invalid = await app.client.post(CONTACTS, json={**ada, "email": "ada"}, headers=editor)
    duplicate = await app.client.post(
        CONTACTS, json={"name": "A", "email": "ADA@example.org"}, headers=editor
    )
    derived = await app.client.post(CONTACTS, json={**ada, "email_key": "x"}, headers=editor)
    not_json = await app.client.post(CONTACTS, content=b"[1]", headers=editor)

    assert invalid.status_code == 422
    assert "not a valid email address" in invalid.json()["errors"]["email"]
    assert duplicate.status_code == 409
    # On the field people typed, not on the index's stored copy (email_key).
    assert duplicate.json()["errors"] == {"email": "another contact already has this email"}
    assert derived.status_code == 422
    assert derived.json()["errors"] == {"email_key": "not an editable field"}
    assert not_json.status_code == 422
    listed = await app.client.get(CONTACTS, headers=editor)
    assert [r["name"] for r in listed.json()["records"]] == ["Ada"]  # nothing else stored


async def test_reading_and_writing_need_the_model_permissions(webos: KernelHarness) -> None:
    app, editor = await _started(webos)
    reader, clerk = app.auth_headers(["reader"]), app.auth_headers(["clerk"])
    record = (await app.client.get(f"{CONTACTS}?name=Alan", headers=reader)).json()["records"][0]
    one = f"{CONTACTS}/{record['id']}"
    body = {"name": "Kay", "email": "kay@example.org"}

    assert (await app.client.get(one, headers=reader)).json()["name"] == "Alan"
    # Reading is not writing; the module's own contacts.write is not the model's (and without
    # .read the model does not exist for the caller: 404, as for a model that does not).
    for headers, status in ((reader, 403), (clerk, 404)):
        assert (await app.client.post(CONTACTS, json=body, headers=headers)).status_code == status
        assert (await app.client.patch(one, json=body, headers=headers)).status_code == status
        assert (await app.client.delete(one, headers=headers)).status_code == status
    # Without a token, 401.
    assert (await app.client.get(CONTACTS, headers=clerk)).status_code == 404
    assert (await app.client.get("/api/contacts/admin", headers=clerk)).json() == []
    assert (await app.client.get(CONTACTS)).status_code == 401
    assert (await app.client.get(one, headers=reader)).json()["name"] == "Alan"  # unchanged

    changed = await app.client.patch(one, json={"name": "Alan K"}, headers=editor)
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Alan K"
    assert changed.json()["email"] == "alan@example.org"
    assert (await app.client.delete(one, headers=editor)).status_code == 204
    assert (await app.client.get(one, headers=reader)).status_code == 404
    assert (await app.client.get(f"{CONTACTS}/not-an-id", headers=reader)).status_code == 404


async def test_every_change_is_an_event_naming_who_and_which_fields(
    webos: KernelHarness,
) -> None:
    app = await webos.start(["contacts"], roles=ROLES)
    editor = app.auth_headers(["editor"])
    events = await app.subscribe("contacts.contact.changed")
    ada = {"name": "Ada", "email": "ada@example.org"}

    created = (await app.client.post(CONTACTS, json=ada, headers=editor)).json()
    one = f"{CONTACTS}/{created['id']}"
    await app.client.patch(one, json={"name": "Ada L"}, headers=editor)
    await app.client.delete(one, headers=editor)

    seen = [(await events.next()).json() for _ in range(3)]
    assert [(e["action"], e["fields"]) for e in seen] == [
        ("created", ["email", "name"]),
        ("updated", ["name"]),
        ("deleted", []),
    ]
    assert {(e["by"], e["id"], e["model"]) for e in seen} == {
        ("test-user", created["id"], "contacts.contact")
    }
    assert "ada@example.org" not in str(seen)  # names of fields, never their values


async def test_the_console_fragment_filters_sorts_and_reports_bad_input(
    webos: KernelHarness,
) -> None:
    app, _ = await _started(webos)
    reader = app.auth_headers(["reader"])
    fragment = "/api/contacts/console/data/contact"

    filtered = await app.client.get(f"{fragment}?_field=name&_value=Alan", headers=reader)
    descending = await app.client.get(f"{fragment}?sort=name", headers=reader)
    refused = await app.client.get(f"{fragment}?_field=email_key&_value=x", headers=reader)

    assert filtered.status_code == 200
    assert "alan@example.org" in filtered.text and "ada@example.org" not in filtered.text
    # The column sorted ascending offers the descending order next, keeping the filters.
    assert "sort=-name" in descending.text and 'aria-sort="ascending"' in descending.text
    # A bad filter is a message in the view (the console stays usable), not an error page.
    assert refused.status_code == 200
    assert "cannot filter contacts.contact by &#39;email_key&#39;" in refused.text
    assert "New contact" not in filtered.text  # a reader gets no create button
