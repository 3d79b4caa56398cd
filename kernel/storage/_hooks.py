"""The extension point of storage: ``webos_storage_backends`` (new kinds of mounts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.hooks import hookspec

if TYPE_CHECKING:
    from kernel.storage._build import BackendKinds


class StorageHookSpecs:
    @hookspec
    def webos_storage_backends(self, kinds: BackendKinds) -> None:
        """Add storage backend kinds: ``kinds.register_backend_kind("ftp", factory)``.

        Called once when storage starts, before mounts are built from settings.
        """
