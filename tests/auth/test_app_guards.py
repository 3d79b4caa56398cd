"""App-wide checks run once per request after routing, answered like a guard's refusal; a
request without any credential header is anonymous without any parsing."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get
from litestar.config.app import AppConfig
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kernel.auth import PUBLIC, AppGuards, Principal, add_app_guard, innermost_guards
from kernel.auth._cookies import session_cookie
from kernel.auth._middleware import DEFAULT_AUTHENTICATORS, credential_headers


def _marking(app: ASGIApp) -> ASGIApp:
    """An outer layer that marks every answer it sends (as the page headers do)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-outer", b"1")]}
            await send(message)

        await app(scope, receive, marked)

    return middleware


def _closed_unless_public(scope: Scope, handler: BaseRouteHandler) -> None:
    if not handler.opt.get("public"):
        raise NotAuthorizedException("closed")


@get("/open", opt=dict(PUBLIC), sync_to_thread=False)
def open_route() -> dict[str, Any]:
    return {"ok": True}


@get("/closed", sync_to_thread=False)
def closed_route() -> dict[str, Any]:
    return {"ok": True}


async def test_a_check_sees_the_routed_handler_and_refuses_through_the_outer_layers() -> None:
    config = AppConfig(route_handlers=[open_route, closed_route])
    add_app_guard(config, _closed_unless_public)
    config.middleware.append(_marking)  # added after the guards, as a module's hook may
    innermost_guards(config)
    assert isinstance(config.middleware[-1], AppGuards)
    async with AsyncTestClient(Litestar.from_config(config)) as client:
        opened = await client.get("/open")
        closed = await client.get("/closed")
    assert opened.status_code == 200
    assert closed.status_code == 401
    assert closed.headers["x-outer"] == "1"  # answered inside the outer layers, as a guard is


async def test_one_guard_layer_holds_every_check() -> None:
    config = AppConfig()
    add_app_guard(config, _closed_unless_public)
    add_app_guard(config, _closed_unless_public)
    layers = [layer for layer in config.middleware if isinstance(layer, AppGuards)]
    assert len(layers) == 1
    assert len(layers[0].checks) == 2


def test_the_headers_authenticators_read_are_known_unless_one_does_not_say() -> None:
    assert credential_headers([*DEFAULT_AUTHENTICATORS, session_cookie]) == {
        b"authorization",
        b"x-api-key",
        b"cookie",
    }

    async def custom(scope: Scope, security: Any) -> Principal | None:
        return None

    # An authenticator that does not say what it reads is asked on every request.
    assert credential_headers([*DEFAULT_AUTHENTICATORS, custom]) is None
