"""The one place where ``fs://<mount>/<path>`` strings are parsed and checked.

Every backend trusts paths that went through :func:`validate_path`, so the rules here are the
security boundary of the whole storage layer: they are deliberately strict and refuse rather than
normalise. A path that would mean something different to *any* later layer (a URL decoder, a
Windows file system, a Unicode normaliser) is refused, because "normalise then use" is how
traversal bugs are born.

Grammar::

    urn     = "fs://" mount [ "/" path ]
    mount   = [a-z] *( [a-z0-9_-] )            ; at most 63 characters
    path    = segment *( "/" segment )          ; at most 1024 UTF-8 bytes
    segment = 1*char                            ; at most 255 UTF-8 bytes, not "." nor ".."

Refused anywhere in the path: empty segments (``a//b``, a leading or trailing ``/``), ``.`` and
``..`` segments, backslashes, NUL and every other control or invisible formatting character
(Unicode categories Cc, Cf, Cs, Zl, Zp), any percent escape ``%XX`` (paths are literal, never
URL-encoded: a ``%`` not followed by two hex digits is fine), and segments whose NFKC form
contains ``/`` or ``\\`` or is ``.``/``..`` (fullwidth dots and solidi).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ._errors import InvalidURN

SCHEME = "fs://"
MOUNT_RE = re.compile(r"[a-z][a-z0-9_-]{0,62}")
MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class URN:
    """A parsed, validated object address; ``path`` is "" only for a mount root."""

    mount: str
    path: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.mount}/{self.path}" if self.path else f"{SCHEME}{self.mount}"

    def child(self, name: str) -> URN:
        """The URN of ``name`` below this one, validated like any other."""
        joined = f"{self.path}/{name}" if self.path else name
        return URN(self.mount, validate_path(joined, urn=f"{SCHEME}{self.mount}/{joined}"))


def validate_mount(mount: str) -> str:
    """Return ``mount`` if it is a legal mount name, else raise :class:`InvalidURN`."""
    if not isinstance(mount, str) or not MOUNT_RE.fullmatch(mount):
        raise InvalidURN(
            f"invalid mount name {mount!r}: expected lowercase [a-z][a-z0-9_-]*, at most 63 chars",
            mount=mount if isinstance(mount, str) else None,
        )
    return mount


def validate_path(path: str, *, allow_root: bool = False, urn: str | None = None) -> str:
    """Return ``path`` unchanged if it is safe to hand to a backend, else raise InvalidURN.

    ``urn`` is only used to name the offender in the error message.
    """
    where = urn if urn is not None else repr(path)

    def refuse(reason: str) -> InvalidURN:
        return InvalidURN(f"invalid URN {where}: {reason}", urn=urn)

    if not isinstance(path, str):
        raise refuse("path must be a string")
    if path == "":
        if allow_root:
            return path
        raise refuse("a path is required (the mount root can only be listed)")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse("path is not valid UTF-8 (lone surrogate)") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise refuse(f"path longer than {MAX_PATH_BYTES} bytes")
    if path.startswith("/"):
        raise refuse("absolute paths are not allowed")
    if "\\" in path:
        raise refuse("backslashes are not allowed")
    if _PERCENT_ESCAPE.search(path):
        raise refuse("percent escapes (%XX) are not allowed: paths are literal")
    for char in path:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise refuse(f"control or invisible character U+{ord(char):04X} is not allowed")
    for segment in path.split("/"):
        if segment == "":
            raise refuse("empty path segment (leading, trailing or doubled '/')")
        if segment in (".", ".."):
            raise refuse(f"{segment!r} segments are not allowed")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise refuse(f"path segment longer than {MAX_SEGMENT_BYTES} bytes")
        folded = unicodedata.normalize("NFKC", segment)
        if folded in (".", "..") or "/" in folded or "\\" in folded:
            raise refuse(f"segment {segment!r} looks like {folded!r} once Unicode-normalised")
    return path


def parse_urn(value: str | URN, *, allow_root: bool = False) -> URN:
    """Parse and validate ``fs://<mount>/<path>``; raise :class:`InvalidURN` naming the input.

    ``URN`` instances are re-validated too, since the dataclass can be built by hand.
    """
    if isinstance(value, URN):
        validate_mount(value.mount)
        validate_path(value.path, allow_root=allow_root, urn=str(value))
        return value
    if not isinstance(value, str):
        raise InvalidURN(f"invalid URN {value!r}: expected a string like 'fs://mount/path'")
    if not value.startswith(SCHEME):
        raise InvalidURN(f"invalid URN {value!r}: must start with {SCHEME!r}", urn=value)
    rest = value[len(SCHEME) :]
    mount, sep, path = rest.partition("/")
    if not MOUNT_RE.fullmatch(mount):
        raise InvalidURN(
            f"invalid URN {value!r}: mount {mount!r} must match [a-z][a-z0-9_-]* (max 63)",
            urn=value,
        )
    if sep and path == "" and not allow_root:
        raise InvalidURN(f"invalid URN {value!r}: a path is required", urn=value)
    return URN(mount, validate_path(path, allow_root=allow_root, urn=value))
