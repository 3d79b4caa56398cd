"""The kernel runtime: module phases around the bus and the registry; the host of subsystems."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.runtime._kernel import Kernel, core_conventions

__getattr__ = lazy_exports(__name__)
__all__ = ["Kernel", "core_conventions"]
