"""Styled text lines (``Content``) painted through the line API, fast enough to redraw every frame.

Textual's general ``render()`` path wraps, aligns and re-resolves every style on every paint, which costs
a few hundred µs per line; these panes redraw up to 20 times a second. ``ContentLines`` resolves each
style string (``"$text-muted"``, ``"bold $warning"``) once per theme and widget style, turns one line into
one ``Strip``, and hands back the same ``Strip`` object while the line is unchanged, so Textual's own
per-strip caches (filters, crops) keep working. ``changed_rows`` tells a widget which rows to repaint.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget

ELLIPSIS = "…"


def changed_rows(before: Sequence[Content] | None, after: Sequence[Content]) -> list[int] | None:
    """Rows whose text or styles differ; None when the number of lines changed (a layout is needed)."""
    if before is None or len(before) != len(after):
        return None
    return [row for row, (a, b) in enumerate(zip(before, after)) if a.plain != b.plain or a.spans != b.spans]


class ContentLines:
    """Strips for a widget's Content lines: styles resolved against the widget's own style, one cached
    Strip per distinct (line, width), long lines cut with an ellipsis."""

    MAX_CACHED = 512

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._base_key: object = None
        self._base: RichStyle = RichStyle.null()
        self._styles: dict[str, RichStyle] = {}
        self._strips: dict[tuple[str, tuple, int], Strip] = {}

    def _check_base(self) -> None:
        """Drop every cached style and strip when the widget's style changed (theme switch, CSS reload,
        pseudo-class such as focus)."""
        visual = self._widget.visual_style
        if visual is not self._base_key:
            self._base_key = visual
            self._base = visual.rich_style
            self._styles.clear()
            self._strips.clear()

    @property
    def base_style(self) -> RichStyle:
        self._check_base()
        return self._base

    def style(self, name: str | object) -> RichStyle:
        """The rich style of a span style over the widget's own style."""
        if not isinstance(name, str):
            return self._base + getattr(name, "rich_style", RichStyle.null())
        style = self._styles.get(name)
        if style is None:
            widget = self._widget
            style = (widget.visual_style + widget._get_style(name)).rich_style
            self._styles[name] = style
        return style

    def strip(self, content: Content, width: int) -> Strip:
        """One line as a Strip exactly `width` cells wide."""
        self._check_base()
        key = (content.plain, tuple(content.spans), width)
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) >= self.MAX_CACHED:
                self._strips.clear()
            strip = self._build(content, width)
            self._strips[key] = strip
        return strip

    def blank(self, width: int) -> Strip:
        self._check_base()
        return Strip.blank(width, self._base)

    def _build(self, content: Content, width: int) -> Strip:
        text, base = content.plain, self._base
        segments: list[Segment] = []
        position = 0
        spans = sorted(content.spans, key=lambda span: span.start)
        nested = any(later.start < earlier.end for earlier, later in zip(spans, spans[1:]))
        if nested:
            # Overlapping spans (rare here): let Content merge the style stack.
            segments = [
                Segment(piece, self.style(style) if style else base)
                for piece, style in content.render(end="", parse_style=self._widget._get_style)
            ]
        else:
            for span in spans:
                if span.start > position:
                    segments.append(Segment(text[position : span.start], base))
                if span.end > span.start:
                    segments.append(Segment(text[span.start : span.end], self.style(span.style)))
                position = max(position, span.end)
            if position < len(text):
                segments.append(Segment(text[position:], base))
        length = sum(cell_len(segment.text) for segment in segments)
        if length > width and width > 0:
            kept = list(Strip(segments, length).crop(0, width - 1))
            kept.append(Segment(ELLIPSIS, kept[-1].style if kept else base))
            return Strip(kept, width)
        return Strip(segments, length).extend_cell_length(width, base)
