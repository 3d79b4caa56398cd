"""Where the project is, wherever a command is run from inside it."""

from __future__ import annotations

from pathlib import Path

PROJECT_MARKER = "pyproject.toml"


def project_root(start: Path, marker: str = PROJECT_MARKER) -> Path | None:
    """The nearest folder, ``start`` or one of its ancestors, that holds ``marker``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / marker).is_file():
            return folder
    return None


def modules_path_from(configured: Path, *, explicit: bool, cwd: Path) -> Path:
    """The modules path a ``webos run`` started at the project root would scan.

    An explicit ``WEBOS_MODULES_PATH`` wins as it is (relative to ``cwd``, as ``webos run`` reads
    it). Otherwise the default, relative path is taken from the project root, so that running
    ``webos new module`` inside ``modules/`` does not make ``modules/modules/NAME``; with no
    project above, from ``cwd``.
    """
    if explicit or configured.is_absolute():
        return configured
    root = project_root(cwd)
    return (root or cwd) / configured
