"""AFS: one async storage API over ``fs://<mount>/<path>`` URNs, on local folders or S3.

Build with :func:`build_afs` from :class:`StorageSettings` (``WEBOS_STORAGE_*``), or construct
:class:`AFS` from backends directly; then ``await afs.start()``. See ``docs/storage.md``. The
minio SDK loads only when an S3 mount is built.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from ._afs import (
        AFS,
        OBJECT_CREATED,
        OBJECT_DELETED,
        OBJECT_MOVED,
        EventSink,
        PrincipalProvider,
    )
    from ._backend import DEFAULT_CHUNK_SIZE, Backend, ObjectStat, PresignMethod
    from ._build import BackendFactory, BackendKinds, build_afs, default_backend_kinds, is_s3
    from ._errors import (
        AccessDenied,
        AlreadyExists,
        InvalidURN,
        NotFound,
        PresignUnavailable,
        StorageError,
        UnknownMount,
    )
    from ._hooks import StorageHookSpecs
    from ._local import DEFAULT_LOCAL_ROOT, LocalBackend
    from ._presign import PRESIGNED_PATH, sign_presigned, verify_presigned, verify_presigned_claims
    from ._s3 import S3Backend
    from ._settings import StorageSettings
    from ._subsystem import (
        AFSNotStarted,
        CurrentAFS,
        StorageSubsystem,
        afs,
        presign_secret,
    )
    from ._urn import URN, parse_urn, validate_mount, validate_path

__getattr__ = lazy_exports(__name__)
__all__ = [
    "AFS",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_LOCAL_ROOT",
    "OBJECT_CREATED",
    "OBJECT_DELETED",
    "OBJECT_MOVED",
    "PRESIGNED_PATH",
    "URN",
    "AFSNotStarted",
    "AccessDenied",
    "AlreadyExists",
    "Backend",
    "BackendFactory",
    "BackendKinds",
    "CurrentAFS",
    "EventSink",
    "InvalidURN",
    "LocalBackend",
    "NotFound",
    "ObjectStat",
    "PresignMethod",
    "PresignUnavailable",
    "PrincipalProvider",
    "S3Backend",
    "StorageError",
    "StorageHookSpecs",
    "StorageSettings",
    "StorageSubsystem",
    "UnknownMount",
    "afs",
    "build_afs",
    "default_backend_kinds",
    "is_s3",
    "parse_urn",
    "presign_secret",
    "sign_presigned",
    "validate_mount",
    "validate_path",
    "verify_presigned",
    "verify_presigned_claims",
]
