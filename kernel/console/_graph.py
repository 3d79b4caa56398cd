"""The Catalog's picture: modules and subjects as an SVG drawn on the server (no script, no CDN).

Three columns: producers (modules that declare a subject), subjects, consumers (modules whose
handlers take it). A module that does both appears on both sides, so every edge runs left to
right and none loops back. Subjects are sorted by name; each module sits at the mean height of
its subjects (pushed down where two would overlap), which keeps edges short and the drawing the
same for the same contracts. Colours and line styles come from console.css classes: the
console's policy refuses ``style=`` attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from kernel.asyncapi import SystemContracts

ROW = 30  # vertical distance between two subjects
NODE_H = 22
MODULE_W = 150
SUBJECT_W = 240
GAP = 130  # room for the edges between columns
PAD = 12
HEAD = 28  # the column titles
CHAR_W = 7.4  # an average character at the 12 px the CSS sets: long names are cut to fit


@dataclass(frozen=True)
class Edge:
    subject: str
    module: str
    durable: bool = False
    typed: bool = True


def _cut(text: str, width: float) -> str:
    room = int((width - 12) / CHAR_W)
    return text if len(text) <= room else text[: max(room - 1, 1)] + "…"


def _place(modules: dict[str, list[int]]) -> dict[str, float]:
    """Each module's row: the mean row of its subjects, in that order, never two on one row."""
    wanted = sorted(modules, key=lambda m: (sum(modules[m]) / len(modules[m]), m))
    rows: dict[str, float] = {}
    free = 0.0
    for module in wanted:
        row = max(sum(modules[module]) / len(modules[module]), free)
        rows[module] = row
        free = row + 1
    return rows


def _node(x: float, row: float, width: float, label: str, classes: str, tip: str) -> str:
    y = HEAD + PAD + row * ROW
    return (
        f'<g class="{classes}"><title>{escape(tip)}</title>'
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{width:.0f}" height="{NODE_H}" rx="5"/>'
        f'<text x="{x + 8:.0f}" y="{y + NODE_H / 2 + 4:.0f}">{escape(_cut(label, width))}</text>'
        "</g>"
    )


def _edge(x1: float, row1: float, x2: float, row2: float, classes: str) -> str:
    y1 = HEAD + PAD + row1 * ROW + NODE_H / 2
    y2 = HEAD + PAD + row2 * ROW + NODE_H / 2
    bend = (x2 - x1) / 2
    return (
        f'<path class="{classes}" d="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} '
        f'{x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"/>'
    )


def _modules_of(edges: Iterable[Edge], rows: dict[str, int]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for edge in edges:
        found.setdefault(edge.module, []).append(rows[edge.subject])
    return found


def contracts_svg(
    contracts: SystemContracts, href: Callable[[str], str], selected: str | None = None
) -> Markup:
    """The picture of ``contracts``; ``href(subject)`` is where a subject's node links to;
    ``selected`` (the subject shown in detail) is marked ``aria-current``."""
    subjects = sorted(contracts.channels)
    if not subjects:
        return Markup('<p class="empty">No module declares or handles an event.</p>')
    row_of = {subject: row for row, subject in enumerate(subjects)}
    produced = sorted(
        {
            Edge(s, p.module, typed=p.schema is not None)
            for s in subjects
            for p in contracts.channels[s].producers
        },
        key=lambda e: (e.subject, e.module, e.typed),
    )
    consumed = sorted(
        {
            Edge(s, c.module, durable=c.durable, typed=c.schema is not None)
            for s in subjects
            for c in contracts.channels[s].consumers
        },
        key=lambda e: (e.subject, e.module, e.durable, e.typed),
    )
    left = _place(_modules_of(produced, row_of))
    right = _place(_modules_of(consumed, row_of))
    x_subject = PAD + MODULE_W + GAP
    x_right = x_subject + SUBJECT_W + GAP
    width = x_right + MODULE_W + PAD
    rows = max([len(subjects), *(r + 1 for r in (*left.values(), *right.values()))])
    height = HEAD + 2 * PAD + rows * ROW
    parts = [
        f'<svg class="contracts-graph" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        'role="group" aria-labelledby="contracts-graph-title">',
        '<title id="contracts-graph-title">Modules and the subjects they emit and handle</title>',
        f'<text class="column" x="{PAD}" y="18">Producers</text>',
        f'<text class="column" x="{x_subject}" y="18">Subjects</text>',
        f'<text class="column" x="{x_right}" y="18">Consumers</text>',
    ]
    for edge in produced:
        kind = "typed" if edge.typed else "untyped"
        parts.append(
            _edge(
                PAD + MODULE_W, left[edge.module], x_subject, row_of[edge.subject], f"edge {kind}"
            )
        )
    for edge in consumed:
        kind = ("durable " if edge.durable else "") + ("typed" if edge.typed else "untyped")
        x = x_subject + SUBJECT_W
        parts.append(_edge(x, row_of[edge.subject], x_right, right[edge.module], f"edge {kind}"))
    for module, row in left.items():
        parts.append(_node(PAD, row, MODULE_W, module, "module", f"{module}: emits"))
    for module, row in right.items():
        parts.append(_node(x_right, row, MODULE_W, module, "module", f"{module}: handles"))
    for subject in subjects:
        channel = contracts.channels[subject]
        kind = "typed" if channel.schema is not None else "untyped"
        tip = f"{subject}: {channel.description}" if channel.description else subject
        if subject == selected:
            kind += " selected"
        node = _node(x_subject, row_of[subject], SUBJECT_W, subject, f"subject {kind}", tip)
        current = ' aria-current="true"' if subject == selected else ""
        parts.append(
            f'<a href="{escape(href(subject))}" data-subject="{escape(subject)}"{current}>'
            f"{node}</a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
