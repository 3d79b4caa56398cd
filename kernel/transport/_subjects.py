"""Subject names: one grammar for emit and subscribe, checked before anything reaches NATS, and
the wildcard arithmetic the kernel's streams and NATS permissions are built from."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kernel.errors import WebOSError
from kernel.transport._credentials import PRIVATE_INBOX_PREFIX

KERNEL_PREFIX = "webos."
_TOKEN = re.compile(r"^[A-Za-z0-9_\-$]+$")


class InvalidSubject(WebOSError, ValueError):
    """A subject does not follow the grammar in docs/modules.md."""

    http_status = 400


def normalize_subject(subject: str, *, allow_wildcards: bool = False) -> str:
    """Return the NATS form of ``subject``.

    The seed system wrote events as ``user:logged_in``; both separators are accepted and the
    colon form is mapped to dots so that old call sites and NATS tooling agree on one name.
    """
    if not isinstance(subject, str) or not subject:
        raise InvalidSubject("an event subject must be a non-empty string")
    dotted = subject.replace(":", ".")
    tokens = dotted.split(".")
    for position, token in enumerate(tokens):
        if token in {"*", ">"}:
            if not allow_wildcards:
                raise InvalidSubject(f"wildcards are not allowed when emitting: {subject!r}")
            if token == ">" and position != len(tokens) - 1:
                raise InvalidSubject(f"'>' must be the last token: {subject!r}")
            continue
        if not _TOKEN.match(token):
            raise InvalidSubject(
                f"invalid subject {subject!r}: tokens are letters, digits, '_', '-' or '$', "
                "separated by single dots"
            )
    return dotted


#: Subjects that carry the kernel's own traffic, not events: forwarded HTTP, service calls and
#: their replies, JetStream and KV, dead letters and replays, task messages, service discovery.
#: Credentials-adjacent or private to the processes involved: wildcard handlers never get them,
#: and watching them is an administrator's act (the console, ``webos events tail --internal``).
INTERNAL_SUBJECTS = (
    "webos.http.>",
    "webos.svc.>",
    "webos.dlq.>",
    "webos.replay.>",
    "webos.tasks.>",
    "_INBOX.>",
    "$JS.>",
    "$KV.>",
    "$SRV.>",
)
# Private inboxes (``_INBOX_<user>.``, see ``_credentials.py``) are replies too; each user's is a
# first token of its own, so no NATS pattern covers them all.
_INTERNAL_PREFIXES = (*(pattern[:-1] for pattern in INTERNAL_SUBJECTS), PRIVATE_INBOX_PREFIX)


def is_kernel_subject(subject: str) -> bool:
    return subject.startswith(KERNEL_PREFIX)


def is_internal_subject(subject: str) -> bool:
    """Whether ``subject`` (a subject or a pattern) lies under one of ``INTERNAL_SUBJECTS``."""
    return subject.startswith(_INTERNAL_PREFIXES)


def covers(pattern: str, subject: str) -> bool:
    """Whether every subject matched by ``subject`` is matched by ``pattern``."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or given[index] == ">":
            return False
        if token != "*" and token != given[index]:
            return False
        if token == "*" and given[index] == ">":
            return False
    return len(given) == len(wanted)


def overlap(a: str, b: str) -> bool:
    left, right = a.split("."), b.split(".")
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else None
        y = right[index] if index < len(right) else None
        if x == ">" or y == ">":
            return x is not None and y is not None
        if x is None or y is None:
            return False
        if x != y and "*" not in (x, y):
            return False
    return True


def _join(a: str, b: str) -> str:
    left, right = a.split("."), b.split(".")
    if len(left) == len(right) and ">" not in left + right:
        return ".".join(x if x == y else "*" for x, y in zip(left, right, strict=True))
    prefix = []
    for x, y in zip(left, right, strict=False):
        if ">" in (x, y):
            break
        prefix.append(x if x == y else "*")
    prefix = prefix[: max(min(len(left), len(right)) - 1, 0)] if prefix else prefix
    return ".".join([*prefix, ">"]) if prefix else ">"


def minimal_cover(subjects: Iterable[str]) -> list[str]:
    """Patterns covering all ``subjects`` with no two overlapping (as NATS requires)."""
    patterns: list[str] = []
    for subject in sorted(set(subjects)):
        merged = subject
        changed = True
        while changed:
            changed = False
            for existing in list(patterns):
                if covers(existing, merged):
                    merged = existing
                    patterns.remove(existing)
                    changed = True
                elif covers(merged, existing):
                    patterns.remove(existing)
                    changed = True
                elif overlap(existing, merged):
                    patterns.remove(existing)
                    merged = _join(existing, merged)
                    changed = True
        patterns.append(merged)
    return sorted(set(patterns))
