"""Websockets do not travel: forwarding carries HTTP requests and answers (streamed or not).

One place says so: a module process refuses to start with websocket routes, and the gateway
closes a websocket that reaches a forwarded module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from litestar.routes import WebSocketRoute

from kernel.errors import StartupError

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import Send

CLOSE_REASON = "not forwarded: websockets run in the gateway only"


def websocket_routes(app: Litestar, module: str) -> list[str]:
    """Websocket routes of ``module`` in ``app``."""
    prefix = f"/api/{module}"
    found = {
        f"WEBSOCKET {route.path}"
        for route in app.routes
        if route.path.startswith(prefix) and isinstance(route, WebSocketRoute)
    }
    return sorted(found)


def refuse_websockets(app: Litestar, modules: Iterable[str]) -> None:
    """Stop a module process whose modules have websocket routes, naming them."""
    for name in modules:
        refused = websocket_routes(app, name)
        if refused:
            raise StartupError(
                f"module {name!r} cannot run standalone: the gateway forwards HTTP requests "
                "over NATS, not websockets, and these routes are websockets: "
                + "; ".join(refused)
                + ". Run it in the gateway (webos run)."
            )


async def refuse_websocket(send: Send) -> None:
    """Close a websocket that reached a forwarded module."""
    await send({"type": "websocket.close", "code": 1011, "reason": CLOSE_REASON})
