"""Reading a module's convention file for its declarations only, wherever the module runs.

The catalog of contracts and the NATS permissions import the ``events.py`` or ``services.py`` of
modules that run in other processes: importing a convention file has no side effects, so this
is safe. A file that fails to import is named with the module's own lines, as the loader does.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from kernel.errors import ModuleError
from kernel.modules._discovery import ModuleSpec
from kernel.modules._frames import module_frames, with_frames


def read_convention(spec: ModuleSpec, stem: str) -> ModuleType | None:
    """``<package>.<stem>`` of ``spec`` imported, or ``None`` if the module has no such file."""
    qualified = f"{spec.package}.{stem}"
    if importlib.util.find_spec(qualified) is None:
        return None
    try:
        return importlib.import_module(qualified)
    except Exception as error:
        frames = module_frames(error, spec.path)
        summary = f"module {spec.name!r} failed to load {stem}.py: {type(error).__name__}: {error}"
        raise ModuleError(
            with_frames(summary, frames), modules=(spec.name,), frames=frames
        ) from error
