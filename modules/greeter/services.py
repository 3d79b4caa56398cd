from kernel import ModuleContext, service


@service("greeter")
class Greeter:
    """Registered as ``greeter``; other modules reach it with ``registry.get("greeter")``."""

    def __init__(self, module: ModuleContext) -> None:
        self._module = module

    async def greet(self, name: str) -> str:
        # Read at each call: a greeting saved in the console applies to the next request.
        return f"{getattr(self._module.settings, 'greeting', 'Hello')}, {name}!"
