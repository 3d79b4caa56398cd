"""Headers for the browser pages we serve (the console, the sign-in page, the API docs).

Each page of ours may be framed by nobody (``X-Frame-Options: DENY`` and CSP ``frame-ancestors
'none'``: no clickjacking) and may run only scripts from this origin (CSP ``script-src 'self'``: an
injected ``<script>`` or a CDN that went bad runs nothing). A page that needs a looser policy sets
its own header, which is kept.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.types import ASGIApp, Message, Receive, Scope, Send

#: The console and its sign-in page: everything from this origin, no inline script or style.
STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def page_headers(prefix: str, policy: str) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: add the page headers to every HTTP answer under ``prefix``.

    App-wide middleware, so that answers made by exception handlers (a "not allowed" page) get
    them too.
    """
    added = [
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def under(path: str) -> bool:
        return path == prefix or path.startswith(prefix.rstrip("/") + "/")

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not under(scope["path"]):
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

    return wrap
