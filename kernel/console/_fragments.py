"""``fragment()``: what a module's ``ui.py`` handlers answer with."""

from __future__ import annotations

from litestar import Response


def fragment(body: str, status_code: int = 200) -> Response[str]:
    """An HTML fragment for the console (escape what you interpolate: ``escape(value)``)."""
    return Response(body, status_code=status_code, media_type="text/html; charset=utf-8")
