"""AFS: one async storage API over ``fs://<mount>/<path>`` URNs, on local folders or S3.

Build with :func:`build_afs` from :class:`StorageSettings` (``WEBOS_STORAGE_*``), or construct
:class:`AFS` from backends directly; then ``await afs.start()``. See ``docs/storage.md``.
"""

from ._afs import (
    AFS,
    OBJECT_CREATED,
    OBJECT_DELETED,
    OBJECT_MOVED,
    EventSink,
    PrincipalProvider,
)
from ._backend import DEFAULT_CHUNK_SIZE, Backend, ObjectStat, PresignMethod
from ._build import BackendFactory, BackendKinds, build_afs, default_backend_kinds
from ._errors import (
    AlreadyExists,
    InvalidURN,
    NotFound,
    PermissionDenied,
    StorageError,
    UnknownMount,
)
from ._local import DEFAULT_LOCAL_ROOT, LocalBackend
from ._presign import PRESIGNED_PATH, sign_presigned, verify_presigned, verify_presigned_claims
from ._s3 import S3Backend
from ._settings import StorageSettings
from ._subsystem import AFSNotStarted, CurrentAFS, StorageSubsystem, afs, presign_secret
from ._urn import URN, parse_urn, validate_mount, validate_path

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
    "PermissionDenied",
    "PresignMethod",
    "PrincipalProvider",
    "S3Backend",
    "StorageError",
    "StorageSettings",
    "StorageSubsystem",
    "UnknownMount",
    "afs",
    "build_afs",
    "default_backend_kinds",
    "parse_urn",
    "presign_secret",
    "sign_presigned",
    "validate_mount",
    "validate_path",
    "verify_presigned",
    "verify_presigned_claims",
]
