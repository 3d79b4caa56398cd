"""``[streams.NAME]`` in module.toml: refused at load unless the name is the module's own and
every subject is one the module emits."""

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


def _load(tmp_path: Path, streams: str, emits: str = '["shop.sold"]') -> None:
    manifest = f'name = "shop"\nemits = {emits}\n{streams}'
    write_module(tmp_path, "shop", {}, manifest=manifest)
    settings = KernelSettings(modules_path=tmp_path, data_dir=tmp_path / ".webos")
    gateway_kernel(settings).load()


def test_a_stream_of_subjects_the_module_does_not_emit_is_refused(tmp_path: Path) -> None:
    streams = '[streams.SHOP]\nsubjects = ["shop.sold", "auth.>"]\n'
    with pytest.raises(ModuleError) as refused:
        _load(tmp_path, streams)
    message = str(refused.value)
    assert "module.toml" in message
    assert "stream 'SHOP' stores 'auth.>', which the module does not emit" in message
    assert "(shop.sold)" in message  # what it may store
    assert "'shop.sold'" not in message.split("stores")[1].split("which")[0]


def test_a_stream_wider_than_what_the_module_emits_is_refused(tmp_path: Path) -> None:
    # shop.> would also store shop.refunded, which some other module may emit.
    with pytest.raises(ModuleError, match=r"stream 'SHOP' stores 'shop\.>', which the module does"):
        _load(tmp_path, '[streams.SHOP]\nsubjects = ["shop.>"]\n')


def test_a_stream_named_for_another_module_or_the_kernel_is_refused(tmp_path: Path) -> None:
    for name in ("AUDIT", "WEBOS_EVENTS", "SHOPPING"):
        streams = f'[streams.{name}]\nsubjects = ["shop.sold"]\n'
        with pytest.raises(ModuleError, match=f"stream '{name}': a module's stream is named"):
            _load(tmp_path, streams)
        forget_modules(tmp_path)


def test_own_streams_within_emits_load(tmp_path: Path) -> None:
    streams = (
        '[streams.SHOP]\nsubjects = ["shop.sold"]\nmax_msgs = 10\n'
        '[streams.SHOP_RETURNS]\nsubjects = ["shop.returns.*"]\n'
    )
    _load(tmp_path, streams, emits='["shop.sold", "shop.returns.>"]')
