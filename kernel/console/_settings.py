"""The Settings view: each module's ``settings.py`` model as a form, saved live.

Every field shows where its value comes from (environment, saved, default). A field an
environment variable sets is disabled and names the variable; a secret's input is always empty
(write-only: left empty, it keeps its value). Saving goes through the same editor as
``PUT /api/system/settings/{module}``: refused values come back as messages under their fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath

from kernel.auth import CurrentPrincipal, has_permission
from kernel.console._pages import Catalogue
from kernel.console._shell import html, page, render
from kernel.livesettings import READ, WRITE, SettingsEditor, SettingsInvalid

OPT = {"console_permission": READ}


@get("/settings", include_in_schema=False, opt=OPT)
async def settings_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    live_settings: NamedDependency[SettingsEditor],
) -> Response[str]:
    return page(
        request,
        catalog,
        principal,
        "settings.html",
        title="Settings",
        active="settings",
        modules=live_settings.modules(),
        chosen=None,
    )


@get("/settings/{module:str}", include_in_schema=False, opt=OPT)
async def module_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    live_settings: NamedDependency[SettingsEditor],
    module: FromPath[str],
) -> Response[str]:
    form = await _form(live_settings, module, principal_can_write=has_permission(principal, WRITE))
    return page(
        request,
        catalog,
        principal,
        "settings.html",
        title=f"Settings of {module}",
        active="settings",
        modules=live_settings.modules(),
        chosen=module,
        form=form,
    )


async def _form(
    editor: SettingsEditor,
    module: str,
    *,
    principal_can_write: bool,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    saved: bool = False,
) -> str:
    shown = await editor.describe(module)
    return render(
        "settings_form.html",
        module=module,
        shown=shown,
        history=await editor.history(module),
        can_write=principal_can_write,
        errors=errors or {},
        entered=entered or {},
        saved=saved,
    )


@post("/settings/{module:str}", include_in_schema=False, status_code=200, opt=OPT)
async def save_module(
    live_settings: NamedDependency[SettingsEditor],
    module: FromPath[str],
    principal: CurrentPrincipal,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[str]:
    if not has_permission(principal, WRITE):
        raise PermissionDeniedException(f"saving settings needs {WRITE}")
    shown = await live_settings.describe(module)
    changes: dict[str, Any] = {}
    for item in shown["fields"]:
        name = item["name"]
        if item["locked"] or name not in data:
            continue  # a disabled input is not sent; a locked field is never saved
        value = data[name]
        if item["secret"] and value == "":
            continue  # write-only: left empty keeps the secret
        if item["type"] == "bool":
            value = "true" if value in ("true", "on") else "false"
        if item["secret"] or value != _as_text(item["value"]):
            changes[name] = value
    revision = int(data.get("_revision") or 0)
    try:
        if changes:
            await live_settings.save(
                module, changes, principal.email or principal.id, after=revision
            )
    except SettingsInvalid as error:
        form = await _form(
            live_settings, module, principal_can_write=True, errors=error.errors, entered=data
        )
        # 200: htmx swaps only 2xx answers, and the form with its errors is the answer to show.
        return html(form)
    return html(await _form(live_settings, module, principal_can_write=True, saved=True))


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


settings_handlers = [settings_page, module_page, save_module]
