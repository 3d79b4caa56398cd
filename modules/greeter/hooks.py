from kernel import ModuleContext, hookimpl


@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    module.log.info("greeter ready, greeting with %r", module.settings.greeting)
