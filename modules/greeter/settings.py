import logging

from pydantic import Field

from kernel import ModuleSettings, on_settings_changed

log = logging.getLogger("webos.module.greeter")


class GreeterSettings(ModuleSettings):
    """Read from WEBOS_MOD_GREETER_* (e.g. WEBOS_MOD_GREETER_GREETING=Bonjour); editable live
    in the console's Settings view or with ``webos settings set greeter greeting=Hi``."""

    greeting: str = Field("Hello", min_length=1, max_length=40, description="Says hello with.")


@on_settings_changed
async def greeting_changed(old: GreeterSettings, new: GreeterSettings) -> None:
    if old.greeting != new.greeting:
        log.info("greeting with %r now (was %r)", new.greeting, old.greeting)
