"""The site icon: browsers ask every origin for ``/favicon.ico``, and a 404 for it fills logs.

One small SVG kept in ``static/`` (ours, no CDN), answered at ``/favicon.ico`` (the name browsers
and tools try unasked; modern browsers read the SVG by its content type) and ``/favicon.svg``
(what our pages link to). Public, like ``/health``: it says nothing about the deployment.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader

from kernel.auth import PUBLIC


@cache
def _icon() -> bytes:
    return (Path(__file__).parent / "static" / "favicon.svg").read_bytes()


@get(
    ["/favicon.ico", "/favicon.svg"],
    sync_to_thread=False,
    include_in_schema=False,
    opt=PUBLIC,
    cache_control=CacheControlHeader(max_age=86400),
)
def favicon() -> Response[bytes]:
    return Response(_icon(), media_type="image/svg+xml")


favicon_handlers = [favicon]
