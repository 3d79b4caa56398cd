from kernel import ModuleSettings


class GreeterSettings(ModuleSettings):
    """Read from WEBOS_MOD_GREETER_* (e.g. WEBOS_MOD_GREETER_GREETING=Bonjour)."""

    greeting: str = "Hello"
