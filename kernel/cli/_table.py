"""Plain-text tables for ``webos`` commands: each column as wide as its widest cell.

Fixed widths break on the first value longer than guessed (a ``scheduler`` role, a long node id)
and pad short ones for nothing; measuring the data costs one pass over rows already in memory.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

#: Columns are separated by this many spaces.
GAP = 2


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: str = ""
) -> list[str]:
    """The lines of a table; columns whose header is in ``right`` (numbers) align right. The last
    column is never padded, so a line carries no trailing spaces."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    last = len(headers) - 1

    def line(row: Sequence[str]) -> str:
        shown = []
        for i, cell in enumerate(row):
            if headers[i] in right.split():
                shown.append(cell.rjust(widths[i]))
            else:
                shown.append(cell if i == last else cell.ljust(widths[i]))
        return (" " * GAP).join(shown).rstrip()

    return [line([str(h) for h in headers]), *(line(row) for row in cells)]


def wrapped(text: str, *, indent: int = 4) -> list[str]:
    """``text`` whole, wrapped to the terminal (80 columns when not a terminal), indented."""
    width = max(shutil.get_terminal_size((80, 24)).columns, 40)
    prefix = " " * indent
    return textwrap.wrap(
        text, width, initial_indent=prefix, subsequent_indent=prefix, break_long_words=True
    ) or [prefix.rstrip()]
