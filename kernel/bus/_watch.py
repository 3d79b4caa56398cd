"""What someone watching the bus may see (the console's Events view, ``webos events tail``).

Events are for watching; the kernel's internal subjects (``INTERNAL_SUBJECTS``: forwarded HTTP,
service calls, replies, JetStream, dead letters, tasks) are not: they carry other people's work.
A watcher sees them only when it asks for one of them by name and may (an administrator, or the
operator's own ``--internal``). Identities are never shown, only that one was there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kernel.auth import CREDENTIAL_HEADERS, IDENTITY_HEADER
from kernel.transport import is_internal_subject, is_kernel_subject

REDACTED = "(redacted)"
_SECRET_HEADERS = frozenset({IDENTITY_HEADER, *CREDENTIAL_HEADERS})


def watch_filter(
    wanted: str, *, internal_allowed: bool, kernel_subjects: bool = False, everything: bool = False
) -> Callable[[str], bool]:
    """For a watcher of ``wanted``: which received subjects to show. The kernel's own events
    (``webos.node.up``, heartbeats every few seconds) show when asked for, or always with
    ``kernel_subjects``. ``everything`` (the console's toggle, ``--internal``) shows both on any
    pattern, the internal ones still only with ``internal_allowed``."""
    asked_internal = internal_allowed and (everything or is_internal_subject(wanted))
    kernel_subjects = kernel_subjects or everything
    asked_kernel = kernel_subjects or wanted.startswith(("webos.", "$"))

    def shown(subject: str) -> bool:
        if is_internal_subject(subject):
            return asked_internal
        return asked_kernel or not is_kernel_subject(subject)

    return shown


def redacted(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` with identities and credentials replaced by a marker."""
    return {
        key: REDACTED if key.lower() in _SECRET_HEADERS else value
        for key, value in (headers or {}).items()
    }
