"""``webos call SERVICE.METHOD JSON`` and ``webos services``: services from a shell.

Without ``--as``, a call goes straight over NATS with the operator's NATS credentials and carries
no identity: the service sees an anonymous caller, so whatever it guards with
``require_permission`` stays closed, and the command line never needs (or reads) the identity
signing key. ``--as API_KEY`` calls through the gateway instead, which authenticates the key,
checks ``services.call`` and signs the identity of the key's owner (``kernel/gateway/_calls.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

import click

from kernel.cli._options import NatsTarget, nats_target, run_or_stop, settings_with, wait_option
from kernel.cli._table import table
from kernel.errors import WebOSError

#: Seconds ``webos call`` collects ``$SRV.INFO`` answers to tell a method nobody offers.
LISTING_WAIT = 1.0
#: Seconds an HTTP call through the gateway may take beyond the call's own timeout.
HTTP_MARGIN = 5.0


class GatewayUnreachable(WebOSError):
    """``webos call --as`` could not reach the gateway."""


class GatewayRefusedCall(WebOSError):
    """The gateway refused ``webos call --as`` (a wrong key, a missing permission, ...)."""


async def _call_over_nats(
    target: NatsTarget, service: str, method: str, args: dict[str, Any], timeout: float
) -> Any:
    from kernel.context import current_deadline
    from kernel.propagation import Propagation
    from kernel.registry import call_service
    from kernel.transport import connect_once

    client = await connect_once(target.url, "webos-cli", timeout=target.timeout, wait=target.wait)
    # The command's deadline, sent with the call: the callee stops when the command stops waiting.
    current_deadline.set(time.monotonic() + timeout)
    try:
        # Trace and correlation id only: no identity, so the callee sees an anonymous caller.
        propagation = Propagation.default()
        called = asyncio.ensure_future(
            call_service(client, service, method, args, timeout=timeout, propagation=propagation)
        )
        try:
            return await _unless_unlisted(client, called, service, method, timeout)
        finally:
            await _cancelled(called)
    finally:
        await client.close()


async def _cancelled(work: asyncio.Future[Any]) -> None:
    """Stop ``work`` and wait until it has (so it is done before the connection closes)."""
    if work.done():
        return
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work


async def _unless_unlisted(
    client: Any, called: asyncio.Future[Any], service: str, method: str, timeout: float
) -> Any:
    """The call's result; or, when ``$SRV.INFO`` lists no such method meanwhile, an error at
    once: a wildcard subscriber (audit's ``@on(">")``) keeps NATS from saying "no responders",
    and the command has no node table to ask. Read while the call is on its way, so a call that
    is served costs nothing more."""
    from kernel.registry import ServiceUnavailable, UnknownServiceMethod, list_services

    listed = asyncio.ensure_future(list_services(client, wait=min(LISTING_WAIT, timeout)))
    try:
        await asyncio.wait({called, listed}, return_when=asyncio.FIRST_COMPLETED)
        if called.done():
            return called.result()
        offered = sorted(m.method for m in listed.result() if m.service == service)
    finally:
        await _cancelled(listed)
    if not offered:
        raise ServiceUnavailable(
            f"nothing serves {service}.{method}: no process offers service {service!r}"
        )
    if method not in offered:
        raise UnknownServiceMethod(
            f"service {service!r} has no method {method!r}. Methods: {', '.join(offered)}"
        )
    return await called


def _call_through_gateway(
    url: str, key: str, service: str, method: str, args: dict[str, Any], timeout: float | None
) -> Any:
    import httpx

    from kernel.registry import RemoteServiceError, ServiceUnavailable

    wait = (timeout or settings_with().request_timeout) + HTTP_MARGIN
    try:
        answer = httpx.post(
            f"{url.rstrip('/')}/api/system/services/{service}/{method}",
            json=args,
            params={"timeout": timeout} if timeout else None,
            headers={"X-API-Key": key},
            timeout=wait,
        )
    except httpx.HTTPError as error:
        raise GatewayUnreachable(
            f"cannot reach the gateway at {url} ({type(error).__name__}: {error}); "
            "start it, or give its address with --gateway"
        ) from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 200 and isinstance(body, dict) and "result" in body:
        return body["result"]
    detail = str(body.get("detail", answer.text)) if isinstance(body, dict) else answer.text
    if isinstance(body, dict) and "remote_type" in body:
        raise RemoteServiceError(service, method, str(body["remote_type"]), detail)
    if answer.status_code == 503:
        raise ServiceUnavailable(detail)
    raise GatewayRefusedCall(f"the gateway at {url} answered {answer.status_code}: {detail}")


def _gateway_url() -> str:
    settings = settings_with()
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.gateway.port}"


@click.command("call")
@click.argument("target", metavar="SERVICE.METHOD")
@click.argument("arguments", metavar="JSON", default="{}")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait.")
@click.option(
    "--as",
    "api_key",
    metavar="API_KEY",
    help="Call as this API key's owner, through the gateway (needs services.call); '-' reads "
    "the key from standard input.",
)
@click.option("--gateway", help="The gateway's URL for --as (default: WEBOS_HOST, WEBOS_PORT).")
@wait_option
def call(
    target: str,
    arguments: str,
    timeout: float | None,
    api_key: str | None,
    gateway: str | None,
    wait: bool,
) -> None:
    """Call SERVICE.METHOD with JSON keyword arguments and print its result as JSON.

    Without --as the call goes over NATS as an anonymous caller."""
    from kernel.registry import parse_target

    service, method = parse_target(target)
    try:
        args = json.loads(arguments)
    except ValueError as error:
        raise click.BadParameter(f"not valid JSON: {error}", param_hint="JSON") from None
    if not isinstance(args, dict):
        raise click.BadParameter(
            'give the arguments as an object: {"name": "Ada"}', param_hint="JSON"
        )
    if api_key == "-":
        api_key = sys.stdin.readline().strip()
    if api_key is not None:
        if not api_key:
            raise click.BadParameter("the API key is empty", param_hint="--as")
        result = _call_through_gateway(
            gateway or _gateway_url(), api_key, service, method, args, timeout
        )
    else:
        work = _call_over_nats(
            nats_target(wait),
            service,
            method,
            args,
            timeout or settings_with().request_timeout,
        )
        result = run_or_stop(work, interrupted="stopped before the call's answer came")
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


async def _services(target: NatsTarget, collect: float) -> list[Any]:
    from kernel.registry import list_services
    from kernel.transport import connect_once

    client = await connect_once(target.url, "webos-cli", timeout=target.timeout, wait=target.wait)
    try:
        return await list_services(client, wait=collect)
    finally:
        await client.close()


@click.command("services")
@click.option("--collect", type=float, default=1.0, help="Seconds to collect answers.")
@click.option("--json", "as_json", is_flag=True, help="Print every method with its JSON schemas.")
@wait_option
def services(collect: float, as_json: bool, wait: bool) -> None:
    """List the services on the bus, their methods and signatures (from $SRV.INFO)."""
    methods = run_or_stop(_services(nats_target(wait), collect))
    if as_json:
        shown = [
            {
                "service": m.service,
                "method": m.method,
                "module": m.module,
                "subject": m.subject,
                "instances": len(m.instances),
                "args_schema": m.args_schema,
                "result_schema": m.result_schema,
            }
            for m in methods
        ]
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        rows = [
            (m.service, m.module, len(m.instances), f"{m.service}.{m.signature()}") for m in methods
        ]
        for line in table(("SERVICE", "MODULE", "INSTANCES", "SIGNATURE"), rows, right="INSTANCES"):
            click.echo(line)
    if not methods:
        click.echo("no services answered", err=True)
        sys.exit(1)
