"""The API documentation pages: Swagger UI and Redoc, from copies kept in ``static/``, no CDN.

Litestar's own pages load their scripts from CDNs (jsdelivr, unpkg, redoc.ly) into the gateway's
origin, the console's, and start them with inline scripts. These pages load only files under
``/schema/static/`` (versions and licences in ``static/README.md``) and run no inline script, so
they are served with a Content-Security-Policy that allows scripts from this origin only.

``/schema`` is Swagger UI, ``/schema/redoc`` Redoc, ``/schema/openapi.json`` (and ``.yaml``) the
document itself. Stoplight Elements and RapiDoc, which Litestar also offers, are not served.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    YamlRenderPlugin,
)
from litestar.static_files import create_static_files_router

from kernel.auth import PUBLIC

STATIC = Path(__file__).parent / "static"
SCHEMA_PATH = "/schema"
ASSETS = f"{SCHEMA_PATH}/static"

#: Scripts and workers from this origin only. Styles may be inline: both viewers inject their
#: own <style> elements (styled-components, Swagger's theme), which cannot run code.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


SPEC_URL = html.escape(f"{SCHEMA_PATH}/openapi.json", quote=True)


def _page(title: str, head: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>"
    ).encode()


class SwaggerPage(OpenAPIRenderPlugin):
    """Swagger UI, started by ``static/swagger-init.js`` from the ``data-spec-url`` attribute."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"])

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(
            f"{openapi_schema['info']['title']} · Swagger UI",
            f"<link rel='stylesheet' href='{ASSETS}/swagger-ui.css'>",
            f"<div id='swagger-ui' data-spec-url='{SPEC_URL}'></div>"
            f"<script src='{ASSETS}/swagger-ui-bundle.js'></script>"
            f"<script src='{ASSETS}/swagger-init.js'></script>",
        )


class RedocPage(OpenAPIRenderPlugin):
    """Redoc, which starts itself on the ``<redoc spec-url>`` element (telemetry off)."""

    def __init__(self) -> None:
        super().__init__(path="/redoc")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(
            f"{openapi_schema['info']['title']} · Redoc",
            "",
            f"<redoc spec-url='{SPEC_URL}' disable-telemetry='true'></redoc>"
            f"<script type='module' src='{ASSETS}/redoc.standalone.js'></script>",
        )


def openapi_config(title: str, version: str) -> OpenAPIConfig:
    """The gateway's OpenAPI document and the pages that show it."""
    return OpenAPIConfig(
        title=title,
        version=version,
        path=SCHEMA_PATH,
        render_plugins=[SwaggerPage(), RedocPage(), JsonRenderPlugin(), YamlRenderPlugin()],
    )


def docs_assets() -> Router:
    """The viewers' files, public like the schema itself."""
    return create_static_files_router(
        ASSETS,
        directories=[STATIC],
        opt=dict(PUBLIC),
        cache_control=CacheControlHeader(max_age=3600),
        include_in_schema=False,
    )
