"""AFS inside the kernel: built from settings at start-up, reachable as ``kernel.afs``."""

from __future__ import annotations

import logging
from typing import Any

import pluggy

from kernel.auth import check_secret_strength, current_principal, load_or_create_dev_secret
from kernel.bus import Bus
from kernel.config import CoreSettings, Environment
from kernel.context import current_module
from kernel.contracts import Host
from kernel.errors import NotRunning

from ._afs import AFS, EventSink
from ._build import build_afs, default_backend_kinds
from ._settings import StorageSettings

log = logging.getLogger("webos.storage")

#: The development presign secret, in the data folder (shared by processes started from it).
PRESIGN_FILE = "presign.key"


class AFSNotStarted(NotRunning):
    """``afs`` was used outside a running kernel."""


class CurrentAFS:
    """``from kernel import afs``: forwards to the running kernel's AFS.

    The storage subsystem binds it at start and unbinds it at stop, so a fresh kernel (every
    test builds one) never sees the previous kernel's mounts.
    """

    def __init__(self) -> None:
        self._target: AFS | None = None

    def bind(self, target: AFS | None) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        target = self._target
        if target is None:
            raise AFSNotStarted("AFS is not running: use it from a module of a started kernel")
        return getattr(target, name)


afs = CurrentAFS()


def _emitter(bus: Bus) -> EventSink:
    async def emit(subject: str, payload: dict[str, Any]) -> None:
        await bus.emit(subject, payload)

    return emit


def _acting_principal() -> str | None:
    """The signed-in caller; for work nobody signed in for, the module doing it."""
    principal = current_principal.get()
    return principal.id if principal.is_authenticated else current_module.get()


def presign_secret(core: CoreSettings, storage: StorageSettings) -> str | None:
    """The secret local presigned URLs are signed with: WEBOS_STORAGE_PRESIGN_SECRET.

    Only a process that makes or serves local presigned URLs needs it (the one running the files
    module). Unset, development shares one generated in the data folder; production has none, so
    local presign there fails naming the variable. Production refuses a guessable one.
    """
    configured = storage.presign_secret
    if configured is not None:
        secret = configured.get_secret_value()
        if core.env is Environment.PROD:
            check_secret_strength(secret, "WEBOS_STORAGE_PRESIGN_SECRET")
        return secret
    if core.env is Environment.PROD:
        return None
    return load_or_create_dev_secret(core.data_dir, PRESIGN_FILE)


class StorageSubsystem:
    """Builds every configured mount; a mount that cannot start stops start-up, naming it."""

    name = "storage"

    def __init__(self) -> None:
        self.afs: AFS | None = None

    async def start(self, host: Host) -> None:
        settings, core = host.get(StorageSettings), host.get(CoreSettings)
        if "local_root" not in settings.model_fields_set:
            # Embedded defaults keep everything under one data folder (WEBOS_DATA_DIR).
            settings = settings.model_copy(update={"local_root": str(core.data_dir / "storage")})
        kinds = default_backend_kinds()
        host.get(pluggy.PluginManager).hook.webos_storage_backends(kinds=kinds)
        self.afs = build_afs(
            settings,
            emit=_emitter(host.get(Bus)),
            principal_provider=_acting_principal,
            secret=presign_secret(core, settings),
            kinds=kinds,
        )
        await self.afs.start()
        afs.bind(self.afs)
        log.info("storage mounts: %s", ", ".join(sorted(self.afs.mounts)))

    async def stop(self) -> None:
        target, self.afs = self.afs, None
        afs.bind(None)
        if target is not None:
            await target.close()

    async def check(self) -> str | None:
        return None
