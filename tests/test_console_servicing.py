"""Servicing and maintenance from the console, with keys over the sandbox: S opens the servicing screen,
n dispatches (vehicle, parts suggested from the satellite's faults, the engine's plan behind a
confirmation with No focused) and the mission reaches the engine; a dispatch the engine would refuse is
refused with its reason before anything changes; a abort asks first; m puts the selected satellite in
maintenance (a reason is required) and the detail title says so; the keys do nothing over dialogs."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from console.app import MissionControlApp
from console.screens.choice import ChoiceScreen
from console.screens.confirm import ConfirmScreen
from console.screens.maintenance import MaintenanceScreen
from console.screens.parts import PartsScreen
from console.screens.servicing import ServicingScreen
from console.widgets.event_log import EventLog
from engine import load_mission
from engine.commands import InjectFault
from engine.faults import FaultRequest

TARGET = "D-01-03"


@pytest.fixture
def app() -> MissionControlApp:
    return MissionControlApp(load_mission("sandbox"), tick_hz=None)


def log_lines(app: MissionControlApp) -> list[str]:
    app._flush_events()
    return [row.cells[-1] for row in app.query_one(EventLog).visible_rows()]


async def open_dispatch(app, pilot, satellite: str = TARGET, vehicle_downs: int = 0):
    app.select_satellite(satellite)
    await pilot.pause()
    await pilot.press("S")
    await pilot.pause()
    assert isinstance(app.screen, ServicingScreen)
    await pilot.press("n")
    await pilot.pause()
    assert isinstance(app.screen, ChoiceScreen)
    for _ in range(vehicle_downs):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def test_dispatch_from_the_servicing_screen_reaches_the_engine(app):
    async with app.run_test(size=(160, 48)) as pilot:
        app.driver.apply(InjectFault(FaultRequest("gpu_failure", satellite=TARGET, gpu=2)))
        await open_dispatch(app, pilot)
        assert isinstance(app.screen, PartsScreen)
        assert app.screen.chosen == ("gpu_board",), "the part that repairs the satellite's fault is suggested"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Send MRV-D to D-01-03 with GPU board" in app.screen.text and "Δv" in app.screen.text
        assert isinstance(app.screen.focused, Button) and app.screen.focused.label.plain == "No"
        await pilot.press("y")
        await pilot.pause()
        (mission,) = app.driver.servicing_missions()
        assert mission.servicer_id == "MRV-D" and app.driver.sim.satellite_ids[mission.target] == TARGET
        assert isinstance(app.screen, ServicingScreen)
        app.advance(1.0)
        await pilot.pause()
        timeline = app.screen.query_one("#servicing-timeline").render()
        assert "svc-1 · MRV-D → D-01-03" in str(timeline) and "phasing" in str(timeline)
        assert any("dispatch servicer MRV-D to D-01-03" in line for line in log_lines(app))


async def test_a_dispatch_the_engine_would_refuse_is_refused_with_its_reason(app):
    async with app.run_test(size=(160, 48)) as pilot:
        notes: list[str] = []
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await open_dispatch(app, pilot, satellite="A-02-03")  # MRV-D lives in the dawn-dusk plane
        await pilot.press("space", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert notes and "change plane" in notes[-1]
        assert not app.driver.servicing_missions()


async def test_abort_asks_first_and_ends_the_mission(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await open_dispatch(app, pilot)
        await pilot.press("space", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "Abort svc-1" in app.screen.title_text
        await pilot.press("n")
        await pilot.pause()
        assert app.driver.servicing_missions()[0].status.value == "active"
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        app.advance(1.0)
        assert app.driver.servicing_missions()[0].status.value == "aborted"


async def test_maintenance_needs_a_reason_and_shows_on_the_satellite(app):
    async with app.run_test(size=(160, 48)) as pilot:
        app.select_satellite(TARGET)
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MaintenanceScreen)
        app.screen.query_one("#maintenance-reason", Input).value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MaintenanceScreen), "no reason: refused in the dialog"
        assert app.driver.maintenance(TARGET) is None
        app.screen.query_one("#maintenance-reason", Input).value = "radiator swap"
        await pilot.press("enter")
        await pilot.pause()
        entry = app.driver.maintenance(TARGET)
        assert entry is not None and entry.reason == "radiator swap" and entry.until_s == pytest.approx(30 * 86400.0)
        app.refresh_now()
        assert "MAINTENANCE" in app.query_one("#detail-pane").border_title
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.driver.maintenance(TARGET) is None


async def test_servicing_keys_do_nothing_over_dialogs(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("j")
        await pilot.pause()
        for key in ("S", "m"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (ServicingScreen, MaintenanceScreen))


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_servicing_screen_fits(app, size):
    async with app.run_test(size=size) as pilot:
        await open_dispatch(app, pilot)
        await pilot.press("space", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        app.advance(1.0)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ServicingScreen)
        for widget_id in ("#servicing-vehicles", "#servicing-missions", "#servicing-timeline"):
            region = screen.query_one(widget_id).region
            assert region.height > 0 and region.right <= size[0] and region.bottom <= size[1]
