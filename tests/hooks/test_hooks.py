"""Lifecycle hooks run in dependency order; a failing one names its module and stops start-up."""

from pathlib import Path

import pytest

from kernel.errors import StartupError
from kernel.testing import KernelHarness, write_module

RECORDING_HOOKS = """
from kernel import hookimpl
from kernel.registry import registry

@hookimpl
async def webos_startup(module):
    registry.get("journal").append(("start", module.name))

@hookimpl
def webos_shutdown(module):
    registry.get("journal").append(("stop", module.name))
"""

JOURNAL_SERVICE = """
from kernel import service

@service("journal")
def journal():
    return SHARED

SHARED = []
"""


async def test_startup_in_dependency_order_and_shutdown_in_reverse(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "base", {"services.py": JOURNAL_SERVICE, "hooks.py": RECORDING_HOOKS})
    write_module(
        tmp_path,
        "middle",
        {"hooks.py": RECORDING_HOOKS},
        manifest='name="middle"\ndepends=["base"]\n',
    )
    write_module(
        tmp_path, "top", {"hooks.py": RECORDING_HOOKS}, manifest='name="top"\ndepends=["middle"]\n'
    )
    app = await webos.start(modules_path=tmp_path)
    journal = app.kernel.registry.get("journal")
    assert journal == [("start", "base"), ("start", "middle"), ("start", "top")]

    await app.stop()

    assert journal[3:] == [("stop", "top"), ("stop", "middle"), ("stop", "base")]


async def test_failing_startup_names_the_module_and_rolls_back(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "base", {"services.py": JOURNAL_SERVICE, "hooks.py": RECORDING_HOOKS})
    failing = (
        "from kernel import hookimpl\n\n"
        "@hookimpl\nasync def webos_startup():\n    raise RuntimeError('no database')\n"
    )
    write_module(
        tmp_path, "payments", {"hooks.py": failing}, manifest='name="payments"\ndepends=["base"]\n'
    )

    with pytest.raises(
        StartupError, match=r"module .payments. failed to start: RuntimeError: no database"
    ):
        await webos.start(modules_path=tmp_path)

    from kernel.registry import registry

    assert registry.get("journal") == [("start", "base"), ("stop", "base")]


async def test_configure_app_hook_adjusts_the_gateway(webos: KernelHarness, tmp_path: Path) -> None:
    hooks = """
from litestar import get
from kernel import hookimpl
from kernel.auth import PUBLIC

@get("/extra", sync_to_thread=False, opt=PUBLIC)
def extra() -> dict:
    return {"added": "by hook"}

@hookimpl
def webos_configure_app(app_config):
    app_config.route_handlers.append(extra)
    return app_config
"""
    write_module(tmp_path, "plugin", {"hooks.py": hooks})
    app = await webos.start(modules_path=tmp_path)

    response = await app.client.get("/extra")

    assert response.json() == {"added": "by hook"}


def test_hook_with_unknown_argument_is_refused_at_load(tmp_path: Path) -> None:
    from kernel.assembly import gateway_kernel
    from kernel.errors import ModuleError
    from kernel.settings import KernelSettings
    from kernel.testing import forget_modules

    bad = "from kernel import hookimpl\n\n@hookimpl\ndef webos_startup(modul):\n    pass\n"
    write_module(tmp_path, "typo", {"hooks.py": bad})
    try:
        with pytest.raises(ModuleError, match="typo"):
            gateway_kernel(KernelSettings(modules_path=tmp_path)).load()
    finally:
        forget_modules(tmp_path)
