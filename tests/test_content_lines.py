"""Styled lines painted through the line API: exact widths, cut with an ellipsis, styles as Textual
resolves them, the same Strip while a line is unchanged, and repaints limited to the lines that changed."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static

from console.widgets.content_lines import ContentLines, changed_rows


class Holder(App):
    CSS = "Static { width: 40; height: 3; }"

    def compose(self) -> ComposeResult:
        yield Static(id="host")


def _text(strip) -> str:
    return "".join(segment.text for segment in strip)


async def test_strips_are_exactly_as_wide_as_asked_and_long_lines_end_in_an_ellipsis():
    app = Holder()
    async with app.run_test(size=(60, 5)):
        lines = ContentLines(app.query_one("#host"))
        short = Content.assemble(("Battery", "$text-muted"), " 88%")
        long = Content.assemble(("x" * 30, "$text-warning"), ("y" * 30, "bold"))
        assert lines.strip(short, 20).cell_length == 20
        assert _text(lines.strip(short, 20)) == "Battery 88%".ljust(20)
        cut = lines.strip(long, 40)
        assert cut.cell_length == 40 and _text(cut) == "x" * 30 + "y" * 9 + "…"
        # The ellipsis keeps the style of the text it replaces.
        assert list(cut)[-1].style == list(cut)[-2].style


async def test_span_styles_match_textuals_own_rendering():
    app = Holder()
    async with app.run_test(size=(60, 5)) as pilot:
        host = app.query_one("#host", Static)
        line = Content.assemble(("RED", "$background on $error bold"), " and ", ("muted", "$text-muted"))
        host.update(line)
        await pilot.pause()
        textual_segments = [segment for segment in host.render_line(0) if segment.text.strip()]
        ours = [segment for segment in ContentLines(host).strip(line, 40) if segment.text.strip()]
        plain = lambda segments: [(s.text.strip(), s.style.clear_meta_and_links()) for s in segments]  # noqa: E731
        assert plain(ours) == plain(textual_segments)  # Textual adds click offsets as meta; colours equal


async def test_unchanged_lines_give_back_the_same_strip_and_a_theme_change_rebuilds_them():
    app = Holder()
    async with app.run_test(size=(60, 5)) as pilot:
        lines = ContentLines(app.query_one("#host"))
        line = Content.assemble(("Loop", "$text-accent"), " 18.6 °C")
        first = lines.strip(line, 30)
        assert lines.strip(Content.assemble(("Loop", "$text-accent"), " 18.6 °C"), 30) is first
        assert lines.strip(line, 31) is not first
        app.theme = "textual-light"
        await pilot.pause()
        rebuilt = lines.strip(line, 30)
        assert rebuilt is not first and list(rebuilt)[0].style != list(first)[0].style


def test_changed_rows_names_the_lines_that_differ_or_asks_for_a_layout():
    a = [Content("one"), Content.assemble(("two", "bold")), Content("three")]
    b = [Content("one"), Content.assemble(("two", "italic")), Content("three!")]
    assert changed_rows(a, list(a)) == []
    assert changed_rows(a, b) == [1, 2]
    assert changed_rows(a, b[:2]) is None
    assert changed_rows(None, b) is None
