"""Turning settings into an :class:`AFS`: the registry of backend kinds and ``build_afs``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from kernel.errors import ConfigError

from ._afs import AFS, EventSink, PrincipalProvider
from ._backend import DEFAULT_PART_SIZE, Backend
from ._local import DEFAULT_LOCAL_ROOT, LocalBackend
from ._settings import ENV_PREFIX, StorageSettings

BackendFactory = Callable[[str, Mapping[str, Any], "str | bytes | None"], Backend]
"""``factory(mount, options, secret) -> Backend``; raise ValueError/ValidationError on bad
options: the caller turns it into a ConfigError naming the mount."""


class _LocalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    root: str = DEFAULT_LOCAL_ROOT
    base_url: str = ""
    durable: bool = True


class _S3Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str
    bucket: str = "webos"
    access_key: str
    secret_key: str
    region: str | None = None
    secure: bool = False
    prefix: str = ""
    part_size: int = DEFAULT_PART_SIZE
    parallel_uploads: int = 2
    create_bucket: bool = True


def local_factory(mount: str, options: Mapping[str, Any], secret: str | bytes | None) -> Backend:
    opts = _LocalOptions.model_validate(dict(options))
    return LocalBackend(
        opts.root, mount=mount, secret=secret, base_url=opts.base_url, durable=opts.durable
    )


def s3_factory(mount: str, options: Mapping[str, Any], secret: str | bytes | None) -> Backend:
    opts = _S3Options.model_validate(dict(options))
    # The minio SDK loads only in processes with an S3 mount.
    from ._s3 import S3Backend

    return S3Backend(**opts.model_dump(), mount=mount)


def is_s3(backend: object) -> bool:
    """Whether ``backend`` is an S3 mount; without an S3 mount, the minio SDK stays unloaded."""
    s3 = sys.modules.get(f"{__package__}._s3")  # no S3Backend exists before its module loads
    return s3 is not None and isinstance(backend, s3.S3Backend)


class BackendKinds:
    """Backend factories by kind name. Owned by whoever builds AFS: no global registry."""

    def __init__(self, factories: Mapping[str, BackendFactory] | None = None) -> None:
        self.factories: dict[str, BackendFactory] = dict(factories or {})

    def register_backend_kind(self, name: str, factory: BackendFactory) -> None:
        if name in self.factories:
            raise ValueError(f"backend kind {name!r} is already registered")
        self.factories[name] = factory

    def create(self, mount: str, options: Mapping[str, Any], secret: str | bytes | None) -> Backend:
        options = dict(options)
        kind = options.pop("kind", None)
        where = {"local": f"{ENV_PREFIX}LOCAL_ROOT", "s3": f"{ENV_PREFIX}S3_*"}.get(
            mount, f"{ENV_PREFIX}MOUNTS"
        )
        factory = self.factories.get(kind) if isinstance(kind, str) else None
        if factory is None:
            known = ", ".join(sorted(self.factories))
            raise ConfigError(
                f"{where}: mount {mount!r} has unknown kind {kind!r} (known: {known})"
            )
        try:
            return factory(mount, options, secret)
        except (ValidationError, ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: mount {mount!r} ({kind}): {exc}") from exc


def default_backend_kinds() -> BackendKinds:
    """A fresh registry with the built-in ``local`` and ``s3`` kinds."""
    return BackendKinds({"local": local_factory, "s3": s3_factory})


def build_afs(
    settings: StorageSettings | None = None,
    *,
    emit: EventSink | None = None,
    principal_provider: PrincipalProvider | None = None,
    secret: str | bytes | None = None,
    kinds: BackendKinds | None = None,
) -> AFS:
    """Build (not start) an AFS with every configured mount.

    ``secret`` signs local presigned URLs; without it, local presign raises StorageError.
    """
    settings = settings if settings is not None else StorageSettings()
    kinds = kinds if kinds is not None else default_backend_kinds()
    mounts = {
        name: kinds.create(name, options, secret)
        for name, options in settings.mount_specs().items()
    }
    return AFS(mounts, emit=emit, principal_provider=principal_provider, presign_secret=secret)
