"""``/schema/asyncapi``: the catalog as one server-rendered page, readable without a script.

Every value comes from module code and manifests, so all of it is escaped. Its one stylesheet is
ours (``static/catalog.css``); the page loads nothing else and runs no script.
"""

from __future__ import annotations

import html
import json
from typing import Any

from kernel.asyncapi._headers import EVENT_HEADERS
from kernel.asyncapi._model import Channel, Consumer, Schema, ServiceMethod, SystemContracts
from kernel.registry import method_subject

ASSETS = "/schema/asyncapi/static"


def catalog_page(contracts: SystemContracts) -> bytes:
    modules = ", ".join(f"{_e(name)} {_e(version)}" for name, version in contracts.modules.items())
    headers = ", ".join(f"<code>{_e(name)}</code>" for name in EVENT_HEADERS["properties"])
    body = [
        "<header><h1>Event and service catalog</h1>",
        f"<p>Modules: {modules or 'none'}. The same as AsyncAPI 3.0: "
        "<a href='/schema/asyncapi.json'>/schema/asyncapi.json</a>.</p>",
        f"<p>Every event carries the headers {headers}.</p></header>",
        f"<h2>Subjects ({len(contracts.channels)})</h2>",
        *(_channel(channel) for channel in contracts.channels.values()),
        f"<h2>Services ({len(contracts.services)})</h2>",
        _services(contracts.services),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>WebOS · event catalog</title>"
        f"<link rel='stylesheet' href='{ASSETS}/catalog.css'></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    ).encode()


def _channel(channel: Channel) -> str:
    producers = ", ".join(sorted({_e(p.module) for p in channel.producers})) or (
        "<em>none declared</em>"
    )
    consumers = "".join(f"<li>{_consumer(c)}</li>" for c in channel.consumers)
    description = f"<p>{_e(channel.description)}</p>" if channel.description else ""
    return (
        f"<section class='subject' id='{_e(channel.subject)}'>"
        f"<h3><code>{_e(channel.subject)}</code></h3>{description}"
        f"<dl><dt>Producers</dt><dd>{producers}</dd>"
        f"<dt>Consumers</dt><dd>{f'<ul>{consumers}</ul>' if consumers else '<em>none</em>'}</dd>"
        f"<dt>Payload</dt><dd>{_schema(channel.schema)}</dd></dl></section>"
    )


def _consumer(consumer: Consumer) -> str:
    notes = []
    if consumer.pattern != "" and ("*" in consumer.pattern or ">" in consumer.pattern):
        notes.append(f"on <code>{_e(consumer.pattern)}</code>")
    if consumer.durable:
        notes.append("durable")
    if consumer.broadcast:
        notes.append("every instance")
    elif consumer.queue:
        notes.append(f"queue <code>{_e(consumer.queue)}</code>")
    accepts = "" if consumer.schema is None else f" accepts {_schema(consumer.schema)}"
    return (
        f"<strong>{_e(consumer.module)}</strong> <code>{_e(consumer.handler)}</code>"
        f"{' (' + ', '.join(notes) + ')' if notes else ''}{accepts}"
    )


def _services(methods: list[ServiceMethod]) -> str:
    if not methods:
        return "<p><em>none</em></p>"
    rows = "".join(
        f"<tr><td><code>{_e(m.service)}.{_e(m.method)}</code></td><td>{_e(m.module)}</td>"
        f"<td><code>{_e(method_subject(m.service, m.method))}</code></td>"
        f"<td>{_schema(m.args_schema)}</td><td>{_schema(m.result_schema)}</td>"
        f"<td>{'yes' if m.idempotent else 'no'}</td></tr>"
        for m in methods
    )
    return (
        "<table><thead><tr><th>method</th><th>module</th><th>subject</th><th>arguments</th>"
        f"<th>result</th><th>idempotent</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _schema(schema: Schema | None) -> str:
    """A model's fields (name, type, required) and its full schema folded away."""
    if schema is None:
        return "<em>any JSON</em>"
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    fields = "".join(
        f"<li><code>{_e(name)}</code>: {_e(_type(field))}"
        f"{' <small>required</small>' if name in required else ''}</li>"
        for name, field in properties.items()
    )
    summary = f"<ul class='fields'>{fields}</ul>" if fields else f"<code>{_e(_type(schema))}</code>"
    full = json.dumps(schema, indent=2, sort_keys=True)
    return f"{summary}<details><summary>JSON schema</summary><pre>{_e(full)}</pre></details>"


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return " | ".join(_type(part) for part in schema[union])
    kind = schema.get("type")
    if kind == "array":
        return f"array[{_type(schema.get('items') or {})}]"
    if kind == "object" and "title" in schema:
        return str(schema["title"])
    return str(kind) if kind else "any"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
