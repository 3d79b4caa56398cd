"""``/api/system/settings``: modules' live settings over HTTP, and the gateway's subsystem that
creates the bucket and serves them.

``settings.read`` lists and shows (secrets as set/unset only), ``settings.write`` saves; the
``admin`` role holds both through ``*``. A cookie session's save needs the CSRF header like every
other state change (``kernel.auth``).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get, put
from litestar.config.app import AppConfig
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field

from kernel.auth import CurrentPrincipal, requires
from kernel.bus import Bus
from kernel.contracts import Host
from kernel.livesettings._editor import SettingsEditor, classes_of
from kernel.livesettings._fields import SettingsInvalid
from kernel.livesettings._store import SettingsStore
from kernel.modules import ModuleSet
from kernel.problems import problem
from kernel.transport import JetStreamSettings

READ = "settings.read"
WRITE = "settings.write"
#: In the app's state: ``() -> modules with settings`` (the console's palette lists them).
MODULES_STATE = "webos_settings_modules"


class SettingsChange(BaseModel):
    values: dict[str, Any] = Field(description="Field name -> new value, validated by the model.")
    revision: int | None = Field(
        None, description="The revision the change was made against; a later save refuses it."
    )


@get("/", guards=[requires(READ)])
async def list_settings(live_settings: NamedDependency[SettingsEditor]) -> list[str]:
    """Modules with a ``settings.py`` model (running here or elsewhere)."""
    return live_settings.modules()


@get("/{module:str}", guards=[requires(READ)])
async def module_settings(
    live_settings: NamedDependency[SettingsEditor], module: FromPath[str]
) -> dict[str, Any]:
    """Each field: type, description, default, value, source (env|saved|default), locked, secret."""
    return await live_settings.describe(module)


@put("/{module:str}", guards=[requires(WRITE)])
async def save_settings(
    live_settings: NamedDependency[SettingsEditor],
    module: FromPath[str],
    data: JSONBody[SettingsChange],
    principal: CurrentPrincipal,
) -> Response[Any]:
    """Validate with the module's model, save, apply everywhere; 422 names each refused field."""
    try:
        by = principal.email or principal.id
        shown = await live_settings.save(module, data.values, by, after=data.revision)
    except SettingsInvalid as error:
        return problem(422, str(error), errors=error.errors)
    return Response(shown)


@get("/{module:str}/history", guards=[requires(READ)])
async def settings_history(
    live_settings: NamedDependency[SettingsEditor], module: FromPath[str]
) -> list[dict[str, Any]]:
    """Kept revisions, newest first: who changed which fields when (never the values)."""
    return await live_settings.history(module)


def settings_router() -> Router:
    return Router(
        "/api/system/settings",
        route_handlers=[list_settings, module_settings, save_settings, settings_history],
        tags=["settings"],
    )


class SettingsEditorSubsystem:
    """The gateway's: creates the bucket with the kernel's replicas and serves the routes."""

    name = "settings-editor"

    def __init__(self) -> None:
        self.editor: SettingsEditor | None = None

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        app_config.route_handlers.append(settings_router())
        app_config.dependencies["live_settings"] = Provide(self._editor, sync_to_thread=False)
        app_config.state[MODULES_STATE] = lambda: self.editor.modules() if self.editor else []
        return app_config

    def _editor(self) -> SettingsEditor:
        if self.editor is None:
            raise RuntimeError("the settings editor is not started")
        return self.editor

    async def start(self, host: Host) -> None:
        bus = host.get(Bus)
        replicas = host.get(JetStreamSettings).replicas
        store = await SettingsStore.open(bus.nats.jetstream(), replicas)

        async def announce(subject: str, payload: dict[str, Any]) -> Any:
            return await bus.emit(subject, payload, source="kernel")

        classes, environments = classes_of(host.get(ModuleSet))
        self.editor = SettingsEditor(store, classes, announce, environments)

    async def stop(self) -> None:
        self.editor = None

    async def check(self) -> str | None:
        return None
