"""Read a document written by ``to_asyncapi`` back into :class:`SystemContracts`.

A saved catalog (``webos contracts export``) is compared with the current one as contracts, so
reading must give back what was written: subjects, producers and consumers with their schemas,
service methods. A document this cannot read (another tool's, a hand-edited one) raises
:class:`ContractDocumentInvalid` naming the place that is wrong.
"""

from __future__ import annotations

from typing import Any

from kernel.asyncapi._document import (
    ANY_JSON,
    ASYNCAPI_VERSION,
    SCHEMAS,
    rewrite_refs,
)
from kernel.asyncapi._model import (
    Channel,
    Consumer,
    Producer,
    Schema,
    ServiceMethod,
    SystemContracts,
)
from kernel.errors import WebOSError


class ContractDocumentInvalid(WebOSError, ValueError):
    """A contract catalog document is not one WebOS wrote; the message says where."""

    http_status = 422


def from_asyncapi(doc: dict[str, Any]) -> SystemContracts:
    """The contracts a ``to_asyncapi`` document describes."""
    if not isinstance(doc, dict) or doc.get("asyncapi") != ASYNCAPI_VERSION:
        found = doc.get("asyncapi") if isinstance(doc, dict) else type(doc).__name__
        raise ContractDocumentInvalid(
            f"not an AsyncAPI {ASYNCAPI_VERSION} document (asyncapi: {found!r})"
        )
    reader = _Reader(doc)
    modules = _mapping(doc.get("info", {}), "info").get("x-webos-modules", {})
    contracts = SystemContracts(
        modules={str(k): str(v) for k, v in _mapping(modules, "info.x-webos-modules").items()}
    )
    producers: dict[str, list[Producer]] = {}
    consumers: dict[str, list[Consumer]] = {}
    for key, operation in _mapping(doc.get("operations", {}), "operations").items():
        where = f"operations.{key}"
        operation = _mapping(operation, where)
        if "x-webos-service" in operation:
            contracts.services.append(reader.service(operation, where))
            continue
        subject = reader.subject(operation, where)
        if operation.get("action") == "send":
            producers.setdefault(subject, []).append(reader.producer(operation, where))
        elif "x-webos-handler" in operation:
            consumers.setdefault(subject, []).append(reader.consumer(operation, where))
    for key, channel in _mapping(doc.get("channels", {}), "channels").items():
        channel = _mapping(channel, f"channels.{key}")
        address = channel.get("address")
        if not isinstance(address, str) or _is_service(channel):
            continue  # an inbox, or a service method's request channel
        contracts.channels[address] = Channel(
            address,
            tuple(producers.get(address, ())),
            tuple(consumers.get(address, ())),
        )
    return contracts


class _Reader:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        components = _mapping(doc.get("components", {}), "components")
        self.schemas = _mapping(components.get("schemas", {}), "components.schemas")

    def subject(self, operation: dict[str, Any], where: str) -> str:
        channel = self.resolve(operation.get("channel"), f"{where}.channel")
        address = channel.get("address")
        if not isinstance(address, str):
            raise ContractDocumentInvalid(f"{where}.channel: a channel without an address")
        return address

    def producer(self, operation: dict[str, Any], where: str) -> Producer:
        messages = operation.get("messages") or []
        if not messages:
            raise ContractDocumentInvalid(f"{where}.messages: a send operation with no message")
        message = self.resolve(messages[0], f"{where}.messages[0]")
        return Producer(
            _text(operation, "x-webos-module", where),
            self.payload(message.get("payload"), f"{where}.messages[0].payload"),
            str(message.get("description", "")),
        )

    def consumer(self, operation: dict[str, Any], where: str) -> Consumer:
        queue = operation.get("x-webos-queue")
        return Consumer(
            module=_text(operation, "x-webos-module", where),
            handler=_text(operation, "x-webos-handler", where),
            pattern=_text(operation, "x-webos-pattern", where),
            schema=self.payload(operation.get("x-webos-accepts"), f"{where}.x-webos-accepts"),
            durable=bool(operation.get("x-webos-durable", False)),
            broadcast=bool(operation.get("x-webos-broadcast", False)),
            queue=None if queue is None else str(queue),
        )

    def service(self, operation: dict[str, Any], where: str) -> ServiceMethod:
        request = self.resolve((operation.get("messages") or [None])[0], f"{where}.messages[0]")
        reply_refs = _mapping(operation.get("reply", {}), f"{where}.reply").get("messages") or [
            None
        ]
        reply = self.resolve(reply_refs[0], f"{where}.reply.messages[0]")
        try:
            args = request["payload"]["properties"]["args"]
            result = reply["payload"]["oneOf"][0]["properties"]["result"]
        except (KeyError, IndexError, TypeError):
            raise ContractDocumentInvalid(
                f"{where}: its request is not {{'args': ...}} or its reply not {{'result': ...}}"
            ) from None
        return ServiceMethod(
            _text(operation, "x-webos-service", where),
            _text(operation, "x-webos-method", where),
            _text(operation, "x-webos-module", where),
            self.payload(args, f"{where} args") or {},
            self.payload(result, f"{where} result") or {},
            idempotent=bool(operation.get("x-webos-idempotent", False)),
        )

    def payload(self, value: Any, where: str) -> Schema | None:
        """The schema a payload refers to, as ``to_asyncapi`` was given it (``None``: any)."""
        ref = _mapping(value, where).get("$ref")
        if not isinstance(ref, str) or not ref.startswith(SCHEMAS):
            raise ContractDocumentInvalid(f"{where}: expected a $ref to {SCHEMAS}...")
        name = ref[len(SCHEMAS) :]
        if name == ANY_JSON:
            return None
        if name not in self.schemas:
            raise ContractDocumentInvalid(f"{where}: no schema {name!r} in components.schemas")
        schema: Schema = rewrite_refs(self.schemas[name], f"{SCHEMAS}{name}/$defs/", "#/$defs/")
        return schema

    def resolve(self, value: Any, where: str) -> dict[str, Any]:
        """The object a local ``$ref`` points to (``value`` itself when it is not one)."""
        target = _mapping(value, where)
        ref = target.get("$ref")
        if ref is None:
            return target
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ContractDocumentInvalid(f"{where}: only local references are read, got {ref!r}")
        node: Any = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise ContractDocumentInvalid(f"{where}: {ref} points to nothing")
            node = node[part]
        return _mapping(node, ref)


def _is_service(channel: dict[str, Any]) -> bool:
    return "x-webos-service" in channel


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractDocumentInvalid(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _text(operation: dict[str, Any], key: str, where: str) -> str:
    value = operation.get(key)
    if not isinstance(value, str) or not value:
        raise ContractDocumentInvalid(f"{where}.{key}: missing or not a string")
    return value
