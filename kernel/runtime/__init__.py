"""The kernel runtime: module phases around the bus and the registry."""

from kernel.runtime._kernel import Kernel

__all__ = ["Kernel"]
