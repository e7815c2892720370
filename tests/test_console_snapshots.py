"""Canonical screens, compared as SVG snapshots (pytest-textual-snapshot). Fixed mission, seed,
terminal size and frames: no timer runs in the app under test. After a deliberate change to the look,
review `snapshot_report.html` and regenerate with `pytest tests/test_console_snapshots.py --snapshot-update`."""

from __future__ import annotations

import pytest

from console.app import MissionControlApp
from engine import load_mission
from tests.conftest import IDEAL_TELEMETRY
from tests.test_power import UNDERSIZED_ARRAY


@pytest.fixture(autouse=True)
def _no_environment_styling(monkeypatch):
    """Environment variables that change Textual's rendering must not leak into snapshots."""
    for name in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_COLOR_SYSTEM", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


def _run_for(app: MissionControlApp, mission_seconds: float):
    async def run_before(pilot) -> None:
        app.driver.speed_index = app.driver.speed_index  # the default 60x
        await pilot.press("space")
        app.advance(mission_seconds / app.driver.speed)
        await pilot.press("space")
        await pilot.pause()

    return run_before


def test_main_screen_wide(snap_compare):
    """Sandbox 90 minutes in, 200x60: every pane on screen."""
    app = MissionControlApp(load_mission("sandbox"), tick_hz=None)
    assert snap_compare(app, run_before=_run_for(app, 5400.0), terminal_size=(200, 60))


def test_satellite_view_at_80x24(snap_compare):
    """The same fleet on a small terminal, showing the satellite detail view (key 2)."""
    app = MissionControlApp(load_mission("sandbox"), tick_hz=None)
    run = _run_for(app, 5400.0)

    async def run_before(pilot) -> None:
        await run(pilot)
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))


def test_alarms_pane_with_active_alarms(snap_compare, tmp_path):
    """An undersized fleet 12 hours in: red and yellow alarms, one acknowledged, at 160x48."""
    path = tmp_path / "undersized.toml"
    path.write_text(UNDERSIZED_ARRAY + IDEAL_TELEMETRY)
    app = MissionControlApp(load_mission(path), tick_hz=None)
    app.driver.sim.run_until(12 * 3600.0)

    async def run_before(pilot) -> None:
        await pilot.press("4", "a", "down")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(160, 48))


def test_job_queue_screen(snap_compare):
    """The sandbox's job queue 90 minutes in (key j), at 120x30: the pretrain, fine-tunes and inference."""
    app = MissionControlApp(load_mission("sandbox"), tick_hz=None)
    run = _run_for(app, 5400.0)

    async def run_before(pilot) -> None:
        await run(pilot)
        await pilot.press("j")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(120, 30))


def test_tutorial_walkthrough_bar_at_80x24(snap_compare):
    """The first-shift tutorial six steps in on a small terminal: the step bar under the clock, the fleet
    pane outlined and its view marked."""
    app = MissionControlApp(load_mission("first-shift"), tick_hz=None)

    async def run_before(pilot) -> None:
        await pilot.press("space", "plus", "minus", "space", "full_stop", "s")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))
