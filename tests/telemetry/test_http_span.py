"""The gateway's light server span (metrics off) against the ASGI instrumentation it replaces
(kept with metrics on): the same requests give the same spans where users look at them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.exceptions import InternalServerException
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from kernel.telemetry import Telemetry
from kernel.telemetry._http import ServerSpanMiddleware, opentelemetry_plugin, sync_server_span
from tests.telemetry._spans import read_spans

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


@get("/items/{item:int}", sync_to_thread=False)
def item(item: FromPath[int]) -> dict[str, int]:
    return {"item": item}


@get("/broken", sync_to_thread=False)
def broken() -> None:
    raise InternalServerException("broken")


@get("/health", sync_to_thread=False)
def health() -> str:
    return "ok"


async def _spans_of(
    instrumented: bool, telemetry: Telemetry, path: Path, tag: str
) -> list[dict[str, Any]]:
    before = len(read_spans(path))
    app = Litestar(
        [item, broken, health],
        plugins=[opentelemetry_plugin(instrumented)],
        middleware=[sync_server_span],
    )
    # The app really runs the middleware asked for (the plugin once ignored middleware_class).
    assert isinstance(app.asgi_handler, ServerSpanMiddleware) is not instrumented
    async with AsyncTestClient(app) as client:
        assert (await client.get("/items/7", headers={"traceparent": CALLER})).status_code == 200
        assert (await client.get("/items/8", headers={"traceparent": NOT_SAMPLED})).is_success
        assert (await client.get(f"/nowhere/{tag}")).status_code == 404
        assert (await client.get("/broken")).status_code == 500
        assert (await client.get("/health")).status_code == 200
    telemetry.flush()
    return [s for s in read_spans(path)[before:] if s["kind"] == "SERVER"]


def _seen(span: dict[str, Any]) -> dict[str, Any]:
    attributes = span["attributes"]
    return {
        "name": span["name"],
        "trace": span["trace_id"] if span["parent_span_id"] else "new",
        "parent": span["parent_span_id"],
        "status": span["status"],
        **{
            key: attributes.get(key)
            for key in ("http.route", "http.status_code", "http.method", "http.scheme")
        },
    }


async def test_the_light_server_span_records_what_the_instrumentation_does(
    recording: tuple[Telemetry, Path],
) -> None:
    telemetry, path = recording
    theirs = [_seen(span) for span in await _spans_of(True, telemetry, path, "a")]
    ours = [_seen(span) for span in await _spans_of(False, telemetry, path, "b")]

    assert ours == theirs
    assert [(s["name"], s["http.status_code"], s["status"]) for s in ours] == [
        ("GET /items/{item}", 200, "UNSET"),
        ("GET", 404, "UNSET"),  # no route matched: named by its method only
        ("GET /broken", 500, "ERROR"),
    ]
    assert ours[0]["trace"] == "0af7651916cd43dd8448eb211c80319c"
    assert ours[0]["parent"] == "b7ad6b7169203331"
