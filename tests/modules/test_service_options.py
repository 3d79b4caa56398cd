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


def _load(tmp_path: Path, table: str) -> None:
    write_module(tmp_path, "shop", {}, manifest=f'name = "shop"\n{table}')
    settings = KernelSettings(modules_path=tmp_path, data_dir=tmp_path / ".webos")
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
