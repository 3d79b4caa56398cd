"""The Events view shows events, not other people's traffic: internal subjects only to an
administrator who asks for them by name, identities always redacted."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from kernel.auth import IDENTITY_HEADER, Principal, use_principal
from kernel.bus import redacted, watch_filter
from kernel.testing import KernelHarness, RunningKernel, server_caught_up

ROLES = '{"operator": ["console.view", "system.read"]}'


def test_what_a_watcher_sees() -> None:
    everything = watch_filter(">", internal_allowed=True)
    assert everything("greeter.greeted") and not everything("webos.node.up")
    assert not everything("webos.http.audit") and not everything("_INBOX.abc.1")
    admin_asks = watch_filter("webos.http.>", internal_allowed=True)
    assert admin_asks("webos.http.audit")
    assert not watch_filter("webos.http.>", internal_allowed=False)("webos.http.audit")
    assert watch_filter("webos.>", internal_allowed=False)("webos.node.up")
    headers = {IDENTITY_HEADER: "eyJ...", "Authorization": "Bearer x", "webos-source": "shop"}
    assert redacted(headers) == {
        IDENTITY_HEADER: "(redacted)",
        "Authorization": "(redacted)",
        "webos-source": "shop",
    }


async def _stream_events(
    app: RunningKernel, headers: dict[str, str], subject: str, **params: str
) -> Any:
    """Open the view's event stream; return the response and a queue of its events."""
    client = app.client
    request = client.build_request(
        "GET", "/console/events/stream", params={"subject": subject, **params}, headers=headers
    )
    response = await client.send(request, stream=True)
    events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def read() -> None:
        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                await events.put((name, line.split(":", 1)[1].strip()))

    reader = asyncio.create_task(read()) if response.status_code == 200 else None
    return response, events, reader


async def _next_bus_event(events: asyncio.Queue[tuple[str, str]]) -> dict[str, Any]:
    while True:
        name, data = await asyncio.wait_for(events.get(), 10)
        if name == "bus":
            return json.loads(data)


@pytest.mark.parametrize("role", ["operator", "admin"])
async def test_internal_traffic_is_hidden_and_identities_redacted(
    webos: KernelHarness, role: str
) -> None:
    app = await webos.start(["greeter"], roles=ROLES)
    headers = app.auth_headers([role])
    response, events, reader = await _stream_events(app, headers, ">")
    try:
        assert response.status_code == 200
        assert (await events.get())[0] == "ready"
        await app.nats.publish("webos.http.greeter", b"GET /api/greeter/x whole\r\n\r\n")
        ada = Principal(id="ada", kind="user", roles=frozenset({"user"}))
        with use_principal(ada):
            await app.kernel.bus.emit("greeter.greeted", {"name": "Ada", "greeting": "Hi"})
        shown = await _next_bus_event(events)
        assert shown["subject"] == "greeter.greeted"  # the forwarded request was not shown
        assert shown["headers"][IDENTITY_HEADER] == "(redacted)"
    finally:
        if reader is not None:
            reader.cancel()
        await response.aclose()


async def test_internal_subjects_are_for_administrators_who_ask(webos: KernelHarness) -> None:
    app = await webos.start(["greeter"], roles=ROLES)
    refused, _, _ = await _stream_events(app, app.auth_headers(["operator"]), "webos.http.>")
    assert refused.status_code == 403
    await refused.aread()
    assert "system.admin" in refused.text
    await refused.aclose()

    response, events, reader = await _stream_events(
        app, app.auth_headers(["admin"]), "webos.http.>"
    )
    try:
        assert (await events.get())[0] == "ready"
        await app.nats.publish("webos.http.greeter", b"GET /api/greeter/x whole\r\n\r\n")
        assert (await _next_bus_event(events))["subject"] == "webos.http.greeter"
    finally:
        if reader is not None:
            reader.cancel()
        await response.aclose()


@pytest.mark.parametrize("role", ["operator", "admin"])
async def test_the_kernel_traffic_toggle_shows_the_kernels_own_subjects(
    webos: KernelHarness, role: str
) -> None:
    app = await webos.start(["greeter"], roles=ROLES)
    headers = app.auth_headers([role])
    page = await app.client.get("/console/events", headers=headers)
    assert 'id="events-internal"' in page.text and "Kernel traffic" in page.text
    response, events, reader = await _stream_events(app, headers, ">", internal="true")
    try:
        assert (await events.get())[0] == "ready"
        await app.nats.publish("webos.http.greeter", b"GET /api/greeter/x whole\r\n\r\n")
        await app.nats.publish("webos.node.discover", b"")
        await server_caught_up(app.nats)  # at the server before the event, on another connection
        await app.kernel.bus.emit("greeter.greeted", {"name": "Ada", "greeting": "Hi"})
        seen = []
        while "greeter.greeted" not in seen:
            seen.append((await _next_bus_event(events))["subject"])
        assert "webos.node.discover" in seen  # the kernel's own, for anyone with the view
        # Other people's requests: to administrators only, toggle or not.
        assert ("webos.http.greeter" in seen) is (role == "admin"), seen
    finally:
        reader.cancel()
        await response.aclose()
