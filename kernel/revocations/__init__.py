"""Ended sessions shared by the gateway replicas: a NATS KV bucket, watched into memory."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.revocations._subsystem import (
        BUCKET,
        RevocationNotShared,
        RevocationsSubsystem,
    )

__getattr__ = lazy_exports(__name__)
__all__ = ["BUCKET", "RevocationNotShared", "RevocationsSubsystem"]
