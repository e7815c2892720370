"""The clock bar keeps the run state and every alarm count readable from 200 columns down to 80."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from textual.app import App, ComposeResult

from console.widgets.clock_bar import ClockBar, ClockState

BUSY = ClockState(
    mission_title="Sandbox: an inclined Walker shell, a dawn-dusk compute shell and eight ground stations",
    utc=datetime(2026, 3, 21, 1, 30, tzinfo=timezone.utc),
    elapsed_s=5400.0,
    paused=False,
    speed=600.0,
    lagging=True,
    red=12,
    yellow=34,
    unacknowledged=40,
    shelved=3,
)


class BarApp(App):
    def compose(self) -> ComposeResult:
        yield ClockBar(id="clock")


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200])
def test_counts_and_run_state_fit_every_width(width):
    text = _bar().line(width).plain
    assert len(text) <= width, text
    for needed in ("RUNNING", "600x", "12 RED", "34 YEL", "40 unack", "3 sh", "T+01:30:00", "01:30:00"):
        assert needed in text, (width, needed, text)


def test_wide_bar_shows_date_title_and_label():
    text = _bar().line(200).plain
    assert "2026-03-21 01:30:00 UTC" in text and "alarms" in text and "engine behind" in text
    assert "Sandbox" in text


def test_narrow_bar_drops_title_label_and_date_in_that_order():
    bar = _bar()
    at_120, at_80 = bar.line(120).plain, bar.line(80).plain
    assert "Sandbox" not in at_120 and "2026-03-21" in at_120
    assert "alarms" not in at_80 and "2026-03-21" not in at_80


async def test_painted_line_is_exactly_the_terminal_width():
    app = BarApp()
    async with app.run_test(size=(80, 3)) as pilot:
        bar = app.query_one(ClockBar)
        bar.show(BUSY)
        await pilot.pause()
        strip = bar.render_line(0)
        assert strip.cell_length == 80
        assert "".join(segment.text for segment in strip).rstrip() == bar.text.rstrip()
        # The same state again: no repaint, and the same strip object (Textual's caches stay warm).
        assert bar.render_line(0) is strip


def _bar() -> ClockBar:
    bar = ClockBar()
    bar.state = BUSY
    return bar
