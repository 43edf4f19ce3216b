"""The step graph drawn as an SVG image, laid out from the order the run follows.

A wiki that shows no Mermaid (Confluence without an app) still shows an image, so the
product draws its own: one row per stage of `ordered_stages` (steps of a row run at the same
time; a gate has a row to itself), arrows from each step to those that need it, gates as
hexagons (the run pauses there), and the `on_failure` handlers in a dashed box below, in
the order they run. Text is monospace so its width is known without a font library, and
nothing depends on the clock or the machine: the same runbook always gives the same bytes,
which is what lets a publication skip an unchanged image.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from xml.sax.saxutils import escape

from flows.language.plan import ordered_stages
from flows.language.validator import ValidatedRunbook

FONT = 12
CHAR = FONT * 0.6  # width of a monospace character
PAD, NODE_H, ROW_GAP, COL_GAP, MARGIN = 10, 38, 34, 18, 16
STYLE = (
    "text{font-family:monospace;font-size:12px;fill:#172b4d}"
    "text.uses{font-size:10px;fill:#5e6c84}"
    ".step{fill:#deebff;stroke:#0052cc}.gate{fill:#fff0b3;stroke:#ff8b00}"
    ".handler{fill:#ffebe6;stroke:#de350b}.edge{stroke:#42526e;fill:none}"
    ".failure{fill:none;stroke:#de350b;stroke-dasharray:5 4}"
)


Node = tuple[str, str, str, str]  # key, title, subtitle, kind (step, gate, handler, start)


@dataclass(frozen=True)
class Box:
    """A node's place: centre x, top y, width, and how it is drawn."""

    key: str
    title: str
    subtitle: str
    kind: str  # step, gate, handler or start
    x: float
    y: float
    width: float
    row: int = 0

    @property
    def bottom(self) -> float:
        return self.y + NODE_H


def render_svg(runbook: ValidatedRunbook) -> str:
    """The runbook's step graph (and failure handlers) as a standalone SVG document."""
    rows, failure_row = _rows(runbook), _failure_row(runbook)
    width = max(
        [_row_width([_width(title, sub, kind) for _, title, sub, kind in row]) for row in rows]
        + [_row_width([_width(title, sub) for _, title, sub, _ in failure_row]) + 2 * PAD]
    )
    boxes: dict[str, Box] = {}
    spans: list[tuple[float, float]] = []  # each row's left and right edge
    y: float = MARGIN
    for number, row in enumerate(rows):
        placed = _place(row, width, y, number)
        boxes.update((box.key, box) for box in placed)
        spans.append((placed[0].x - placed[0].width / 2, placed[-1].x + placed[-1].width / 2))
        y += NODE_H + ROW_GAP
    parts = [_node(b) for b in boxes.values()]
    parts += [
        _arrow(boxes[up], boxes[s.id], spans)
        for s in runbook.spec.steps
        for up in runbook.graph.needs[s.id]
    ]
    if failure_row:
        frame, y = _failure_frame(failure_row, width, y)
        parts += frame
    return _document(runbook.name, width + 2 * MARGIN, y - ROW_GAP + MARGIN, parts)


def _rows(runbook: ValidatedRunbook) -> list[list[Node]]:
    """The steps, one row per stage of the run."""
    steps = {s.id: s for s in runbook.spec.steps}
    return [
        [(sid, sid, steps[sid].uses, "gate" if stage.gate else "step") for sid in stage.steps]
        for stage in ordered_stages(runbook)
    ]


def _failure_row(runbook: ValidatedRunbook) -> list[Node]:
    """ "The run failed", then the handlers in the order they run (empty without any)."""
    handlers = {h.id: h for h in runbook.spec.on_failure}
    chain = [handlers[hid] for hid in runbook.handler_graph.order]
    start: list[Node] = [("run-failed", "the run failed", "", "start")] if chain else []
    return start + [(h.id, h.id, h.uses, "handler") for h in chain]


def _failure_frame(row: list[Node], width: float, y: float) -> tuple[list[str], float]:
    """The dashed "on failure" box at `y` with its chain; and the y below it."""
    chain = _place(row, width, y + PAD + FONT + 4)
    frame_w = _row_width([b.width for b in chain]) + 2 * PAD
    left = MARGIN + (width - frame_w) / 2
    height = NODE_H + 2 * PAD + FONT + 4
    parts = [
        f'<rect class="failure" x="{left:.1f}" y="{y:.1f}" width="{frame_w:.1f}" '
        f'height="{height:.1f}" rx="6"/>',
        f'<text x="{left + PAD:.1f}" y="{y + PAD + FONT - 2:.1f}">on failure</text>',
        *(_node(b) for b in chain),
        *(_side_arrow(a, b) for a, b in itertools.pairwise(chain)),
    ]
    return parts, y + height + ROW_GAP


def _document(name: str, width: float, height: float, parts: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">'
        f"<title>Step graph of runbook {escape(name)}</title>"
        f"<style>{STYLE}</style>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#42526e"/></marker></defs>'
    )
    return "\n".join([head, *parts, "</svg>"]) + "\n"


def _width(title: str, subtitle: str, kind: str = "step") -> float:
    """A node's width: its longer line, padded (a gate's pointed ends take a node's height)."""
    text = max(len(title), len(subtitle) * 10 / 12) * CHAR + 2 * PAD
    return text + (NODE_H if kind == "gate" else 0)


def _row_width(widths: list[float]) -> float:
    return sum(widths) + COL_GAP * max(len(widths) - 1, 0)


def _place(row: list[Node], width: float, y: float, number: int = 0) -> list[Box]:
    """Boxes of row `number`, side by side and centred in `width`."""
    widths = [_width(title, sub, kind) for _, title, sub, kind in row]
    x = MARGIN + (width - _row_width(widths)) / 2
    boxes = []
    for (key, title, sub, kind), w in zip(row, widths, strict=True):
        boxes.append(Box(key, title, sub, kind, x + w / 2, y, w, number))
        x += w + COL_GAP
    return boxes


def _node(box: Box) -> str:
    left, top, w = box.x - box.width / 2, box.y, box.width
    if box.kind == "gate":
        tip = NODE_H / 2
        points = [
            (left, top + tip),
            (left + tip, top),
            (left + w - tip, top),
            (left + w, top + tip),
            (left + w - tip, top + NODE_H),
            (left + tip, top + NODE_H),
        ]
        shape = '<polygon class="gate" points="{}"/>'.format(
            " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        )
    else:
        css = "step" if box.kind == "step" else "handler"
        radius = NODE_H / 2 if box.kind == "start" else 4
        shape = (
            f'<rect class="{css}" x="{left:.1f}" y="{top:.1f}" width="{w:.1f}" '
            f'height="{NODE_H}" rx="{radius:.0f}"/>'
        )
    if not box.subtitle:
        text = f'<text x="{box.x:.1f}" y="{top + 23:.1f}" text-anchor="middle">'
        return f"{shape}{text}{escape(box.title)}</text>"
    return (
        f'{shape}<text x="{box.x:.1f}" y="{top + 16:.1f}" text-anchor="middle">'
        f'{escape(box.title)}</text><text class="uses" x="{box.x:.1f}" y="{top + 30:.1f}" '
        f'text-anchor="middle">{escape(box.subtitle)}</text>'
    )


def _arrow(up: Box, down: Box, spans: list[tuple[float, float]]) -> str:
    """A curve from the bottom of `up` to the top of `down`; past the rows between them it
    runs down beside them, on the side `up` is on, so it crosses no step."""
    x1, y1, x2, y2 = up.x, up.bottom, down.x, down.y
    between = spans[up.row + 1 : down.row]
    if not between:
        return _path(f"M{x1:.1f},{y1:.1f} {_bend(x1, y1, x2, y2)}")
    if x1 <= (between[0][0] + between[0][1]) / 2:
        side = min(a for a, _ in between) - COL_GAP / 2
    else:
        side = max(b for _, b in between) + COL_GAP / 2
    top, bottom = y1 + ROW_GAP, y2 - ROW_GAP
    return _path(
        f"M{x1:.1f},{y1:.1f} {_bend(x1, y1, side, top)} L{side:.1f},{bottom:.1f} "
        f"{_bend(side, bottom, x2, y2)}"
    )


def _bend(x1: float, y1: float, x2: float, y2: float) -> str:
    """A cubic curve leaving downwards and arriving downwards."""
    half = max((y2 - y1) / 2, ROW_GAP / 2)
    return f"C{x1:.1f},{y1 + half:.1f} {x2:.1f},{y2 - half:.1f} {x2:.1f},{y2:.1f}"


def _path(d: str) -> str:
    return f'<path class="edge" d="{d}" marker-end="url(#arrow)"/>'


def _side_arrow(left: Box, right: Box) -> str:
    """A dashed arrow between neighbours of the failure chain."""
    y = left.y + NODE_H / 2
    x1, x2 = left.x + left.width / 2, right.x - right.width / 2
    return (
        f'<path class="edge" stroke-dasharray="4 3" d="M{x1:.1f},{y:.1f} L{x2:.1f},{y:.1f}" '
        'marker-end="url(#arrow)"/>'
    )
