"""Subject names: one grammar for emit and subscribe, checked before anything reaches NATS."""

from __future__ import annotations

import re

from kernel.errors import WebOSError

KERNEL_PREFIX = "webos."
_TOKEN = re.compile(r"^[A-Za-z0-9_\-$]+$")


class InvalidSubject(WebOSError, ValueError):
    """A subject does not follow the grammar in docs/modules.md."""


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


def is_kernel_subject(subject: str) -> bool:
    return subject.startswith(KERNEL_PREFIX)
