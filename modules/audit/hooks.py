from kernel import ModuleContext, hookimpl, registry


@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    await registry.get("audit_log").open()
