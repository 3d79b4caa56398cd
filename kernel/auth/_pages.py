"""Headers for the browser pages we serve (the console, the sign-in page, the API docs).

Each page of ours may be framed by nobody (``X-Frame-Options: DENY`` and CSP ``frame-ancestors
'none'``: no clickjacking) and may run only scripts from this origin (CSP ``script-src 'self'``: an
injected ``<script>`` or a CDN that went bad runs nothing). A page that needs a looser policy sets
its own header, which is kept.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

#: The console and its sign-in page: everything from this origin, no inline script or style.
STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class PageHeaders:
    """ASGI middleware: add each page policy's headers to every HTTP answer under its prefix.

    App-wide, so that answers made by exception handlers (a "not allowed" page) get them too; one
    instance holds every prefix, because each app-wide middleware is a layer every request of every
    route passes through.
    """

    def __init__(self) -> None:
        self._headers: dict[str, list[tuple[bytes, bytes]]] = {}
        self._starts: tuple[str, ...] = ()

    def add(self, prefix: str, policy: str) -> None:
        self._headers[prefix.rstrip("/")] = [
            (b"content-security-policy", policy.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        self._starts = tuple(self._headers)

    def _added_for(self, path: str) -> list[tuple[bytes, bytes]] | None:
        if not path.startswith(self._starts):  # the common case: one C call, no page of ours
            return None
        for prefix, added in self._headers.items():
            if path == prefix or path.startswith(prefix + "/"):
                return added
        return None

    def __call__(self, app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            added = self._added_for(scope["path"]) if scope["type"] == "http" else None
            if added is None:
                await app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers") or [])
                    present = {name.lower() for name, _ in headers}
                    headers += [(name, value) for name, value in added if name not in present]
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware


def page_headers(prefix: str, policy: str) -> PageHeaders:
    """Page headers for the pages under ``prefix``."""
    pages = PageHeaders()
    pages.add(prefix, policy)
    return pages


def add_page_headers(middleware: list[Any], prefix: str, policy: str) -> None:
    """Give the pages under ``prefix`` their headers, in the app's one ``PageHeaders``."""
    for layer in middleware:
        if isinstance(layer, PageHeaders):
            layer.add(prefix, policy)
            return
    middleware.append(page_headers(prefix, policy))
