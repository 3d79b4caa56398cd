""":class:`SystemContracts` written as an AsyncAPI 3.0.0 document.

The layout, which ``_reading.py`` reads back:

- one channel per subject (its ``address``), with one message per distinct producer payload
  (``x-webos-producers`` names the modules that declare it; a subject nobody declares gets one
  message, ``undeclared``, with no producers), and the WebOS headers;
- a ``send`` operation per producer module, a ``receive`` operation per consumer handler
  (``x-webos-module``, ``-handler``, ``-pattern``, ``-durable``, ``-broadcast``, ``-queue``, and
  ``x-webos-accepts``: the handler's own model; a queue group also as the NATS binding);
- per service method, a channel on ``webos.svc.<service>.<method>`` (request ``{"args": ...}``)
  and a ``receive`` operation whose ``reply`` is on the caller's inbox (a channel without
  address: NATS makes a new one per call), ``{"result": ...}`` or ``{"error": ...}``;
- payload schemas in ``components.schemas`` under stable names (``<module>.<model title>``); a
  schema's own ``$defs`` stay inside it, their references rewritten to point there.

Untyped producers and consumers take any JSON (``AnyJSON``: the empty schema).

FastStream generates AsyncAPI from its broker's subscribers and publishers. It does not fit here:
our handlers are wrapped by the kernel's invoker (FastStream sees one raw-message callback, not
the payload model), the catalog includes modules running in other processes that this broker
never subscribed, and its specification models moved between releases (``faststream.asyncapi``
in 0.5, ``faststream.specification`` since 0.6). Its page (``get_asyncapi_html``) loads the
AsyncAPI React component from unpkg and jsdelivr, which our pages never do. The document is
plain data instead, checked against the official AsyncAPI 3.0.0 JSON schema in the tests.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from kernel.asyncapi._headers import CALL_HEADERS, EVENT_HEADERS
from kernel.asyncapi._model import Channel, Producer, Schema, ServiceMethod, SystemContracts
from kernel.registry import method_subject

ASYNCAPI_VERSION = "3.0.0"
NATS_BINDING = "0.1.0"
SCHEMAS = "#/components/schemas/"
ANY_JSON = "AnyJSON"
EVENT_HEADERS_NAME = "WebOSEventHeaders"
CALL_HEADERS_NAME = "WebOSCallHeaders"
CALL_ERROR_NAME = "WebOSCallError"
UNDECLARED = "undeclared"
REQUEST, REPLY = "request", "reply"
#: What the AsyncAPI schema allows in a component's name.
_NAME_UNSAFE = re.compile(r"[^\w.\-]")

_CALL_ERROR: Schema = {
    "type": "object",
    "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
    "required": ["type", "message"],
    "description": "the exception the method raised: its class name and message",
}


def to_asyncapi(
    contracts: SystemContracts,
    *,
    title: str = "WebOS",
    version: str = "0.1.0",
    server_url: str | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of ``contracts``. ``server_url`` (a NATS URL) adds a server;
    credentials in it are left out."""
    writer = _Writer()
    for channel in contracts.channels.values():
        writer.channel(channel)
    for method in contracts.services:
        writer.service(method)
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": "Every subject of the system with its payload, producers and "
            "consumers, and every service method (request/reply).",
            "x-webos-modules": dict(sorted(contracts.modules.items())),
        },
        "defaultContentType": "application/json",
    }
    if server_url is not None:
        doc["servers"] = {"nats": nats_server(server_url)}
    doc["channels"] = writer.channels
    doc["operations"] = writer.operations
    doc["components"] = {"schemas": writer.schemas}
    return doc


def nats_server(url: str) -> dict[str, Any]:
    """An AsyncAPI server for ``url``: host and port only, never the user or password."""
    first = url.split(",")[0].strip()
    parts = urlsplit(first if "://" in first else f"nats://{first}")
    host = parts.hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 address keeps its brackets next to a port
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return {"host": host, "protocol": parts.scheme or "nats"}


class _Writer:
    def __init__(self) -> None:
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.schemas: dict[str, Schema] = {
            ANY_JSON: {"description": "any JSON value (the payload is not declared)"},
            EVENT_HEADERS_NAME: copy.deepcopy(EVENT_HEADERS),
        }

    def channel(self, channel: Channel) -> None:
        subject = channel.subject
        messages: dict[str, Any] = {}
        for key, producers in _by_payload(channel.producers).items():
            first = producers[0]
            messages[key] = self._message(
                subject,
                self.schema(first.module, first.schema, subject),
                description=first.description,
                producers=[p.module for p in producers],
            )
        if not messages:
            messages[UNDECLARED] = self._message(subject, ANY_JSON, description="", producers=[])
        entry: dict[str, Any] = {"address": subject, "messages": messages}
        if channel.description:
            entry["description"] = channel.description
        self.channels[subject] = entry
        for producer in channel.producers:  # in their order, which reading gives back
            module = producer.module
            key = next(k for k, m in messages.items() if module in m["x-webos-producers"])
            self.operations[_safe(f"{module}.send.{subject}")] = {
                "action": "send",
                "channel": _ref("channels", subject),
                "messages": [_ref("channels", subject, "messages", key)],
                "summary": f"{module} emits {subject}",
                "x-webos-module": module,
            }
        for consumer in channel.consumers:
            accepts = self.schema(consumer.module, consumer.schema, consumer.handler)
            operation = self.operations[_safe(f"{consumer.handler}.receive.{subject}")] = {
                "action": "receive",
                "channel": _ref("channels", subject),
                "messages": [_ref("channels", subject, "messages", key) for key in messages],
                "summary": f"{consumer.module} handles {subject} ({consumer.handler})",
                "x-webos-module": consumer.module,
                "x-webos-handler": consumer.handler,
                "x-webos-pattern": consumer.pattern,
                "x-webos-durable": consumer.durable,
                "x-webos-broadcast": consumer.broadcast,
                "x-webos-queue": consumer.queue,
                "x-webos-accepts": {"$ref": SCHEMAS + accepts},
            }
            if consumer.queue is not None and not consumer.durable:
                # What NATS tools understand; a durable handler's is a JetStream consumer.
                operation["bindings"] = {
                    "nats": {"queue": consumer.queue, "bindingVersion": NATS_BINDING}
                }

    def service(self, method: ServiceMethod) -> None:
        self.schemas.setdefault(CALL_HEADERS_NAME, copy.deepcopy(CALL_HEADERS))
        self.schemas.setdefault(CALL_ERROR_NAME, copy.deepcopy(_CALL_ERROR))
        subject = method_subject(method.service, method.method)
        args = self.schema(method.module, method.args_schema, f"{subject}.args")
        result = self.schema(method.module, method.result_schema, f"{subject}.result")
        request = {
            "name": f"{subject}.request",
            "contentType": "application/json",
            "headers": {"$ref": SCHEMAS + CALL_HEADERS_NAME},
            "payload": {
                "type": "object",
                "properties": {"args": {"$ref": SCHEMAS + args}},
                "required": ["args"],
            },
        }
        reply = {
            "name": f"{subject}.reply",
            "contentType": "application/json",
            "payload": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {"result": {"$ref": SCHEMAS + result}},
                        "required": ["result"],
                    },
                    {
                        "type": "object",
                        "properties": {"error": {"$ref": SCHEMAS + CALL_ERROR_NAME}},
                        "required": ["error"],
                    },
                ]
            },
        }
        inbox = f"{subject}.inbox"
        self.channels[subject] = {
            "address": subject,
            "description": f"calls of {method.service}.{method.method} (request/reply)",
            "messages": {REQUEST: request},
            "x-webos-service": method.service,
        }
        self.channels[inbox] = {
            "address": None,
            "description": "the caller's inbox: a new reply subject per call",
            "messages": {REPLY: reply},
        }
        self.operations[_safe(f"{method.module}.serve.{subject}")] = {
            "action": "receive",
            "channel": _ref("channels", subject),
            "messages": [_ref("channels", subject, "messages", REQUEST)],
            "summary": f"{method.module} serves {method.service}.{method.method}",
            "reply": {
                "channel": _ref("channels", inbox),
                "messages": [_ref("channels", inbox, "messages", REPLY)],
            },
            "x-webos-module": method.module,
            "x-webos-service": method.service,
            "x-webos-method": method.method,
            "x-webos-idempotent": method.idempotent,
        }

    def schema(self, module: str, schema: Schema | None, fallback: str) -> str:
        """The component name of ``schema``: ``<module>.<title>`` (``<module>.<fallback>``
        when it has no title), numbered when another schema took that name."""
        if schema is None:
            return ANY_JSON
        base = _safe(f"{module}.{schema.get('title') or fallback}")
        name, n = base, 1
        while name in self.schemas:
            if self.schemas[name] == _rebased(schema, name):
                return name
            n += 1
            name = f"{base}_{n}"
        self.schemas[name] = _rebased(schema, name)
        return name

    def _message(
        self, subject: str, payload: str, *, description: str, producers: list[str]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "name": subject,
            "contentType": "application/json",
            "headers": {"$ref": SCHEMAS + EVENT_HEADERS_NAME},
            "payload": {"$ref": SCHEMAS + payload},
            "x-webos-producers": producers,
        }
        if description:
            message["description"] = description
        return message


def _by_payload(producers: tuple[Producer, ...]) -> dict[str, list[Producer]]:
    """Producers grouped by what they declare, each group keyed by its first module."""
    groups: dict[str, list[Producer]] = {}
    for producer in producers:
        for group in groups.values():
            if (group[0].schema, group[0].description) == (producer.schema, producer.description):
                group.append(producer)
                break
        else:
            groups[producer.module] = [producer]
    return groups


def _rebased(schema: Schema, name: str) -> Schema:
    """``schema`` with its ``#/$defs/...`` references pointing into its component."""
    return rewrite_refs(schema, "#/$defs/", f"{SCHEMAS}{name}/$defs/")


def rewrite_refs(value: Any, old: str, new: str) -> Any:
    """A deep copy of ``value`` with every ``$ref`` starting with ``old`` starting with ``new``."""
    if isinstance(value, dict):
        return {
            key: (
                new + item[len(old) :]
                if key == "$ref" and isinstance(item, str) and item.startswith(old)
                else rewrite_refs(item, old, new)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [rewrite_refs(item, old, new) for item in value]
    return value


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in path)}


def _safe(name: str) -> str:
    return _NAME_UNSAFE.sub("_", name)
