"""Read the runnable samples out of a Markdown guide, with the markers that steer them.

A fenced block in ``bash``, ``sh``, ``console`` (its ``$ `` lines) or ``python`` is run; other
languages (and bare fences: output, grammars) are text. A marker is an HTML comment on the line
just above a fence:

- ``<!-- docs-test: skip: <why> -->``: not run here (docker, a real MongoDB, a browser); the reason
  is required, so every gap in what the docs test proves is written next to the gap;
- ``<!-- docs-test: file <path> -->``: the block is a file of the project, in any language
  (``modules/shop/router.py``): written there, relative to the project folder, before the
  gateway starts (as a user writes a module's files, then runs it);
- ``<!-- docs-test: background -->``: a shell block that keeps running (``webos events tail``,
  ``webos module run``): started in the background, stopped when the guide is done.

One marker anywhere in a guide, on a line of its own, sets how the test starts its gateway:
``<!-- docs-test: gateway: <webos run arguments> -->`` (``none``: the guide needs no gateway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHELL_LANGUAGES = {"bash", "sh", "console"}
_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")


class MarkerError(ValueError):
    """A ``docs-test`` marker the test cannot act on (named with its file and line)."""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    action: str  # "shell", "python", "file", "background", "skip" or "text"
    argument: str = ""  # the file's path, or the reason for a skip

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


@dataclass(frozen=True)
class Guide:
    path: Path
    blocks: list[Block]
    gateway_args: list[str] | None  # None: no gateway


def _action(marker: str | None, language: str, where: str) -> tuple[str, str]:
    if marker is None:
        if language in SHELL_LANGUAGES:
            return "shell", ""
        return ("python", "") if language == "python" else ("text", "")
    kind, _, rest = marker.partition(" ")
    if marker.startswith("skip"):
        reason = marker.removeprefix("skip").lstrip(":").strip()
        if not reason:
            raise MarkerError(f"{where}: a skip marker needs a reason: <!-- docs-test: skip: why")
        return "skip", reason
    if kind == "file" and rest.strip():
        path = rest.strip()
        if path.startswith("/") or ".." in Path(path).parts:
            raise MarkerError(f"{where}: a file marker names a path inside the project: {path!r}")
        return "file", path
    if marker == "background" and language in SHELL_LANGUAGES:
        return "background", ""
    known = "skip: why, file PATH, background"
    raise MarkerError(f"{where}: unknown docs-test marker {marker!r} (known: {known})")


def read_guide(path: Path) -> Guide:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    gateway_args: list[str] | None = []
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = _MARKER.match(line)
        if marker and marker.group(1).startswith("gateway:"):
            args = marker.group(1).removeprefix("gateway:").split()
            gateway_args = None if args == ["none"] else args
        fence = _FENCE.match(line)
        if fence is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            index += 1
        if index == len(lines):
            raise MarkerError(f"{path.name}:{start + 1}: a fence that is never closed")
        above = _MARKER.match(lines[start - 1]) if start > 0 else None
        above_text = above.group(1) if above and not above.group(1).startswith("gateway:") else None
        where = f"{path.name}:{start + 1}"
        action, argument = _action(above_text, fence.group(1).lower(), where)
        text = "\n".join(lines[start + 1 : index]) + "\n"
        blocks.append(Block(path, start + 1, fence.group(1).lower(), text, action, argument))
        index += 1
    return Guide(path, blocks, gateway_args)
