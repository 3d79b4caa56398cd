from kernel import ModuleContext, service


@service("greeter")
class Greeter:
    """Registered as ``greeter``; other modules reach it with ``registry.get("greeter")``."""

    def __init__(self, module: ModuleContext) -> None:
        self._greeting = getattr(module.settings, "greeting", "Hello")

    async def greet(self, name: str) -> str:
        return f"{self._greeting}, {name}!"
