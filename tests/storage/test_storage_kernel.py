"""AFS inside a kernel: mounts from settings, backend kinds added by a module's hook."""

import json
from pathlib import Path

import pytest

from kernel import afs
from kernel.testing import KernelHarness, write_module

HOOKS = """
from kernel import hookimpl
from kernel.storage import LocalBackend

def scratch_factory(mount, options, secret):
    return LocalBackend(options["root"], mount=mount, secret=secret)

@hookimpl
def webos_storage_backends(kinds):
    kinds.register_backend_kind("scratch", scratch_factory)
"""


async def test_a_module_hook_adds_a_backend_kind(
    webos: KernelHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path / "mods", "extras", {"hooks.py": HOOKS})
    root = tmp_path / "scratch-root"
    monkeypatch.setenv(
        "WEBOS_STORAGE_MOUNTS", json.dumps({"tmp": {"kind": "scratch", "root": str(root)}})
    )
    await webos.start(modules_path=tmp_path / "mods")

    await afs.write("fs://tmp/notes/a.txt", b"kept")

    assert (root / "notes" / "a.txt").read_bytes() == b"kept"
    assert await afs.read("fs://tmp/notes/a.txt") == b"kept"


async def test_unknown_backend_kind_stops_start_up_naming_the_mount(
    webos: KernelHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBOS_STORAGE_MOUNTS", json.dumps({"tmp": {"kind": "ftp"}}))
    with pytest.raises(Exception, match="mount 'tmp' has unknown kind 'ftp'"):
        await webos.start(modules_path=tmp_path / "none")
