"""Where in a module's own code an error was raised: the lines a module author can fix.

A traceback through a module's ``router.py`` runs mostly through importlib, the kernel and
libraries; the author needs the few frames in their own files. :func:`module_frames` keeps those
(the last :data:`MAX_FRAMES`), each as ``modules/shop/router.py:12 in <module>: x = 1 / 0``. A
``SyntaxError`` has no frame in the broken file, only the position it names, which is kept too.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

#: Enough to show a call from the failing line back into the module's own helpers, short
#: enough to read at a glance; the whole traceback is logged at DEBUG.
MAX_FRAMES = 3


def module_frames(error: BaseException, folder: Path | None) -> tuple[str, ...]:
    """The last frames of ``error`` (and the errors it was raised from) inside ``folder``."""
    if folder is None:
        return ()
    root = folder.resolve()
    found: list[str] = []
    for link in _chain(error):
        for frame in traceback.extract_tb(link.__traceback__):
            if _inside(frame.filename, root):
                found.append(_describe(frame.filename, frame.lineno, frame.name, frame.line))
        if isinstance(link, SyntaxError) and link.filename and _inside(link.filename, root):
            text = (link.text or "").strip()
            found.append(_describe(link.filename, link.lineno, None, text))
    return tuple(found[-MAX_FRAMES:])


def with_frames(summary: str, frames: tuple[str, ...]) -> str:
    """The summary line, then one indented line per frame."""
    return "\n".join([summary, *(f"  {frame}" for frame in frames)])


def _chain(error: BaseException) -> list[BaseException]:
    # Oldest first, so that the frame that raised last ends the list.
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain[::-1]


def _inside(filename: str, root: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


def _describe(filename: str, lineno: int | None, name: str | None, code: str | None) -> str:
    path = Path(filename).resolve()
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        shown = str(path)
    if shown.startswith(".."):
        shown = str(path)
    where = f"{shown}:{lineno}" + (f" in {name}" if name else "")
    return f"{where}: {code}" if code else where
