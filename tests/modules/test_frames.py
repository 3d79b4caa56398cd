"""A module's error shows where in its own files it failed: its last frames, never the kernel's
or a library's."""

import pytest

from kernel.errors import ModuleError
from kernel.testing import KernelHarness, write_module

# Five calls deep in the module's own code, then a library raises (json, outside the module).
SERVICES = (
    "import json\n"
    "\n"
    "def parse(depth):\n"
    "    if depth:\n"
    "        return parse(depth - 1)\n"
    "    return json.loads('{')\n"
    "\n"
    "CONFIG = parse(5)\n"
)


async def test_the_last_frames_in_the_modules_own_files(webos: KernelHarness, tmp_path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "shop", {"services.py": SERVICES})

    with pytest.raises(ModuleError) as caught:
        await webos.start(["shop"], modules_path=modules)

    assert [frame.split(": ", 1)[1] for frame in caught.value.frames] == [
        "return parse(depth - 1)",
        "return parse(depth - 1)",
        "return json.loads('{')",
    ]
    assert all("shop/services.py:" in frame for frame in caught.value.frames)
    assert caught.value.frames[-1].endswith("services.py:6 in parse: return json.loads('{')")
    message = str(caught.value)
    assert message.startswith("module 'shop' failed to load services.py: JSONDecodeError")
    assert message.splitlines()[1:] == [f"  {frame}" for frame in caught.value.frames]
