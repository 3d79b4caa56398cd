"""``[services.NAME]`` in module.toml: a typo or a bad value stops the load, naming the file."""

from pathlib import Path

import pytest

from kernel.assembly import gateway_kernel
from kernel.errors import ModuleError
from kernel.settings import KernelSettings
from kernel.testing import forget_modules, write_module


@pytest.fixture(autouse=True)
def _forget(tmp_path: Path):
    yield
    forget_modules(tmp_path)


SERVICES = """
from kernel import service

@service("shop")
class Shop:
    async def sell(self, item: str) -> str:
        return item
"""


def _load(tmp_path: Path, table: str, files: dict[str, str] | None = None, **options) -> None:
    files = {"services.py": SERVICES} if files is None else files
    write_module(tmp_path, "shop", files, manifest=f'name = "shop"\n{table}')
    settings = KernelSettings(modules_path=tmp_path, data_dir=tmp_path / ".webos", **options)
    gateway_kernel(settings).load()


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[services.shop]\ntimout = 2\n", "services.shop.timout: Extra inputs are not permitted"),
        ("[services.shop]\ntimeout = -1\n", "services.shop.timeout: Input should be greater"),
        (
            "[services.shop.breaker]\ncooldown = 0\n",
            "services.shop.breaker.cooldown: Input should be greater than 0",
        ),
        ("[services.shop.methods.sell]\nretries = 99\n", "retries: Input should be less than"),
    ],
)
def test_a_bad_service_table_is_refused_naming_the_file(
    tmp_path: Path, table: str, expected: str
) -> None:
    with pytest.raises(ModuleError) as refused:
        _load(tmp_path, table)
    assert "module.toml" in str(refused.value)
    assert expected in str(refused.value)


def test_a_good_service_table_loads(tmp_path: Path) -> None:
    _load(tmp_path, "[services.shop]\ntimeout = 1.5\nbreaker = {cooldown = 2}\n")


@pytest.mark.parametrize("elsewhere", [False, True], ids=["in-process", "proxied"])
def test_a_table_for_a_service_the_module_does_not_declare_is_refused(
    tmp_path: Path, elsewhere: bool
) -> None:
    # Proxied: the gateway reads the tables of a module another process runs, for its callers.
    options = {"exclude": ["shop"]} if elsewhere else {}
    with pytest.raises(ModuleError) as refused:
        _load(tmp_path, "[services.shopp]\ntimeout = 1.5\n", **options)
    assert str(refused.value) == (
        "module 'shop': module.toml has [services.shopp], but its services.py declares no "
        "such service. Declared: shop"
    )


def test_a_service_table_in_a_module_without_services_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModuleError, match=r"has \[services.shop\], but the module has no"):
        _load(tmp_path, "[services.shop]\ntimeout = 1.5\n", files={})
