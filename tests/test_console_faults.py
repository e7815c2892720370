"""The instructor's fault injection and fault list, driven with keys and the palette over real simulations:
F opens the dialog on the selected satellite, a kind and its parameters are chosen and checked, the
injection is confirmed (No focused) and reaches the engine as one InjectFault; a bad value is refused in
the dialog and nothing is applied; an engine refusal is shown with its reason and logged; f lists the
active faults and clears one after a confirmation; both keys are off over dialogs; a mission that hides
faults keeps them out of the log and the palette, and its fault list starts hidden."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, Select

from console.app import MissionControlApp
from console.palette import TargetedCommands, fault_commands
from console.screens.confirm import ConfirmScreen
from console.screens.fault_injection import FaultInjectionScreen
from console.screens.fault_list import FaultListScreen
from console.screens.job_queue import JobQueueScreen
from console.screens.number_input import NumberInputScreen
from console.widgets.event_log import EventLog
from engine import load_mission
from engine.fault_catalogue import CATALOGUE, FaultKind
from engine.faults import FaultRequest
from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState
from tests.test_faults import FLEET
from tests.test_gpu_job_widgets import job_mission

WIDE = (200, 60)
NARROW = (80, 24)


@pytest.fixture
def job_app(write_mission) -> MissionControlApp:
    """Thirty minutes into the small fleet running LLM-1 on 4 GPUs (ideal telemetry and gangs)."""
    app = MissionControlApp(load_mission(write_mission(job_mission())), seed=1, tick_hz=None)
    app.driver.sim.run_until(1800.0)
    return app


def log_lines(app: MissionControlApp) -> list[str]:
    app._flush_events()
    return [row.cells[-1] for row in app.query_one(EventLog).visible_rows()]


def record_notifications(app: MissionControlApp) -> list[str]:
    notes: list[str] = []
    app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
    return notes


def llm1_gpu(app: MissionControlApp) -> tuple[str, int]:
    snap = app.driver.sim.snapshot()
    for i, sat in enumerate(snap.satellite_ids):
        for gpu, job in enumerate(snap.gpu_job[i]):
            if job >= 0 and snap.job_ids[job] == "LLM-1":
                return sat, gpu
    raise AssertionError("LLM-1 runs nowhere")


async def open_dialog(app: MissionControlApp, pilot, satellite: str | None = None) -> FaultInjectionScreen:
    if satellite is not None:
        app.select_satellite(satellite)
        await pilot.pause()
    await pilot.press("F")
    await pilot.pause()
    assert isinstance(app.screen, FaultInjectionScreen)
    return app.screen


async def choose_kind(pilot, screen: FaultInjectionScreen, kind: FaultKind) -> None:
    """Pick `kind` in the dialog's list by keys (the list opens on the first kind)."""
    assert screen.focused is screen.query_one("#fault-kind", Select)
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(screen.kinds.index(kind) - screen.kinds.index(screen.kind)):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    assert screen.kind == kind


async def test_inject_gpu_failure_from_the_key_confirms_then_reaches_the_engine(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        notes = record_notifications(app)
        sat, gpu = llm1_gpu(app)
        screen = await open_dialog(app, pilot, sat)
        assert screen.kind == FaultKind.GPU_FAILURE
        assert screen.query_one("#fault-satellite", Input).value == sat
        screen.query_one("#fault-gpu", Select).value = gpu
        await pilot.pause()
        preview = screen.preview().plain
        assert f"GPU failure on {sat} GPU {gpu} (OK · job LLM-1), permanent" in preview
        assert CATALOGUE[FaultKind.GPU_FAILURE].effect in preview and "GPU FAILED in the GPU pane" in preview
        await pilot.press("tab", "enter")  # enter in the satellite field submits
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "confirm-no", "a hazardous action: No has the focus"
        assert not app.driver.active_faults(), "nothing applied before the confirmation"
        await pilot.press("y")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        (fault,) = app.driver.active_faults()
        assert fault.kind == FaultKind.GPU_FAILURE and fault.target == f"{sat} GPU {gpu}" and fault.end_s is None
        i = app.driver.sim.satellite_ids.index(sat)
        assert app.driver.sim.health.state[i, gpu] == GpuHealthState.FAILED
        assert any(f"fault {fault.id}: GPU failure on {sat} GPU {gpu}" in line for line in log_lines(app))
        assert any(fault.id in note for note in notes)


async def test_kind_and_parameter_by_keys_and_the_dialog_reopens_on_the_last_kind(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        sat = app.driver.sim.satellite_ids[2]
        screen = await open_dialog(app, pilot, sat)
        await choose_kind(pilot, screen, FaultKind.ECC_STORM)
        assert not screen.query_one("#fault-gpu-row").display
        assert "upset rate multiplier · 2–1000 × · default 50" in str(screen.query_one("#fault-params").query("Label").last().render())
        await pilot.press("tab", "tab")  # satellite, then the multiplier
        field = screen.focused
        assert isinstance(field, Input) and field.value == "50"
        field.value = ""
        await pilot.press(*"200")
        await pilot.press("tab")
        duration = screen.focused
        assert isinstance(duration, Input) and duration.id == "fault-duration" and duration.value == "30m"
        duration.value = ""
        await pilot.press(*"45m")
        await pilot.pause()
        assert f"ECC storm on {sat}, for 45m" in screen.preview().plain
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "multiplier 200" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("y")
        await pilot.pause()
        (fault,) = app.driver.active_faults()
        assert fault.kind == FaultKind.ECC_STORM and fault.param("multiplier") == 200.0
        assert fault.end_s == pytest.approx(fault.start_s + 45 * 60)
        screen = await open_dialog(app, pilot)
        assert screen.kind == FaultKind.ECC_STORM


async def test_a_bad_parameter_or_duration_is_refused_in_the_dialog_and_nothing_is_applied(job_app):
    app = job_app
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_dialog(app, pilot, app.driver.sim.satellite_ids[0])
        await choose_kind(pilot, screen, FaultKind.ECC_STORM)
        field = screen.query_one("#param-ecc_storm-multiplier", Input)
        field.value = "5000"
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen, "no confirmation for a value out of range"
        assert screen.error == "multiplier must be between 2 and 1000 ×, got 5000.0"
        assert "multiplier must be between 2 and 1000" in str(screen.query_one("#fault-error").render())
        field.value = "100"
        duration = screen.query_one("#fault-duration", Input)
        duration.value = "9h"  # an ECC storm lasts at most 30 days; a GPU hang at most 6 h
        await pilot.pause()
        assert screen.error == "", "editing clears the refusal"
        await choose_kind_programmatically(pilot, screen, FaultKind.GPU_HANG)
        duration = screen.query_one("#fault-duration", Input)
        duration.value = "9h"
        duration.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.error == "duration must be between 10s and 6h, got 9h"
        assert not app.driver.active_faults() and not app.driver.sim.faults.book.injected
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1 and not app.driver.sim.faults.book.injected


async def choose_kind_programmatically(pilot, screen: FaultInjectionScreen, kind: FaultKind) -> None:
    screen.query_one("#fault-kind", Select).value = kind.value
    await pilot.pause()
    assert screen.kind == kind


async def test_an_engine_refusal_is_shown_in_the_dialog_and_logged(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        notes = record_notifications(app)
        sat, gpu = llm1_gpu(app)
        app.driver.inject_fault(FaultRequest("gpu_failure", satellite=sat, gpu=gpu))
        screen = await open_dialog(app, pilot, sat)
        screen.query_one("#fault-gpu", Select).value = gpu
        await pilot.pause()
        assert "(FAILED" in screen.preview().plain
        screen.submit()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen, "the dialog stays open to correct the request"
        assert screen.error == f"refused: {sat} GPU {gpu} has already FAILED"
        assert len(app.driver.active_faults()) == 1
        assert any("refused" in line and "has already FAILED" in line for line in log_lines(app))
        assert any("has already FAILED" in note for note in notes)


async def test_declining_the_confirmation_keeps_the_dialog_and_escape_cancels(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_dialog(app, pilot, app.driver.sim.satellite_ids[0])
        screen.submit()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # No has the focus
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1 and not app.driver.sim.faults.book.injected


async def test_station_and_fleet_faults_need_no_satellite(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_dialog(app, pilot)
        await choose_kind_programmatically(pilot, screen, FaultKind.STATION_OUTAGE)
        assert screen.query_one("#fault-station-row").display and not screen.query_one("#fault-satellite-row").display
        request, reason = screen.build_request()
        assert reason == "" and request == FaultRequest(FaultKind.STATION_OUTAGE, station="svalbard", duration_s=7200.0)
        await choose_kind_programmatically(pilot, screen, FaultKind.SOLAR_PARTICLE_EVENT)
        assert "Solar particle event on the whole fleet, for 1d" in screen.preview().plain
        screen.submit()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        (fault,) = app.driver.active_faults()
        assert fault.target == "fleet" and fault.end_s == pytest.approx(fault.start_s + 86400.0)


async def test_a_link_fault_picks_among_the_satellites_laser_links(write_mission):
    app = MissionControlApp(load_mission(write_mission(FLEET, "faults.toml")), tick_hz=None)
    app.driver.sim.run_until(600.0)
    async with app.run_test(size=WIDE) as pilot:
        sat = "A-01-01"
        screen = await open_dialog(app, pilot, sat)
        await choose_kind_programmatically(pilot, screen, FaultKind.ISL_TERMINAL_FAILURE)
        snap = app.driver.sim.snapshot()
        i = snap.index_of(sat)
        peers = {snap.satellite_ids[b if a == i else a] for a, b in zip(snap.link_a, snap.link_b) if i in (a, b)}
        links = screen.query_one("#fault-link", Select)
        assert {value for _, value in links._options if value != Select.NULL} == peers
        peer = sorted(peers)[-1]
        links.value = peer
        await pilot.pause()
        assert f"Laser terminal failure on ISL {sat} ↔ {peer} (now " in screen.preview().plain
        screen.submit()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        (fault,) = app.driver.active_faults()
        row = app.driver.sim.comms.links.index_of(i, snap.satellite_ids.index(peer))
        assert app.driver.sim.comms.links.state[row] == LinkState.FAILED
        assert fault.target == f"ISL {sat} ↔ {peer}"


async def test_fault_list_clears_a_fault_after_a_confirmation(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        sat, gpu = llm1_gpu(app)
        first = app.driver.inject_fault(FaultRequest("gpu_failure", satellite=sat, gpu=gpu))
        second = app.driver.inject_fault(FaultRequest("radiator_damage", satellite=sat, params={"fraction": 0.5}))
        await pilot.press("f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FaultListScreen)
        assert [fault.id for fault in screen.shown] == [first.id, second.id]
        assert "2 active faults" in screen.status_text
        await pilot.press("down", "c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert f"End fault {second.id} now: radiator damage on {sat}?" in str(app.screen.query_one("#confirm-text").render())
        assert app.focused is not None and app.focused.id == "confirm-no"
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen
        assert [fault.id for fault in app.driver.active_faults()] == [first.id]
        assert app.driver.sim.faults.book.ended[-1].how == "cleared"
        assert [fault.id for fault in screen.shown] == [first.id] and "1 ended" in screen.status_text
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert any(f"fault {second.id} cleared" in line for line in log_lines(app))


async def test_fault_keys_do_nothing_over_dialogs(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("j", "F", "f")
        await pilot.pause()
        assert isinstance(app.screen, JobQueueScreen) and len(app.screen_stack) == 2
        await pilot.press("escape", "w")
        await pilot.pause()
        assert isinstance(app.screen, NumberInputScreen)
        await pilot.press("F", "f")  # typed into the field, not a second dialog
        await pilot.pause()
        assert len(app.screen_stack) == 2
        await pilot.press("escape", "F")
        await pilot.pause()
        assert isinstance(app.screen, FaultInjectionScreen)
        await pilot.press("f", "F")
        await pilot.pause()
        assert len(app.screen_stack) == 2
        await pilot.press("escape", "f")
        await pilot.pause()
        assert isinstance(app.screen, FaultListScreen)
        await pilot.press("F")
        await pilot.pause()
        assert len(app.screen_stack) == 2


async def test_palette_offers_inject_show_and_clear_per_fault(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        sat, gpu = llm1_gpu(app)
        fault = app.driver.inject_fault(FaultRequest("gpu_hang", satellite=sat, gpu=gpu))
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*f"clear fault {fault.id.lower()}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert f"End fault {fault.id} now: GPU hang (SEFI) on {sat} GPU {gpu}?" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("y")
        await pilot.pause()
        assert not app.driver.active_faults()
        app.select_satellite(sat)
        await pilot.pause()
        fault = app.driver.inject_fault(FaultRequest("radiator_damage", satellite=sat))
        titles = await palette_titles(app, "fault")
        assert f"Inject fault on {sat}…" in titles and "Show faults" in titles
        assert f"Clear fault {fault.id} (Radiator damage on {sat})" in titles
        await dict(palette_entries(app))[f"Inject fault on {sat}…"]()
        await pilot.pause()
        assert isinstance(app.screen, FaultInjectionScreen)
        assert app.screen.query_one("#fault-satellite", Input).value == sat


async def palette_titles(app: MissionControlApp, query: str) -> list[str]:
    provider = TargetedCommands(app.screen)
    await provider.startup()
    return [title for title, _, _ in provider._entries(query)]


def palette_entries(app: MissionControlApp):
    return [(title, callback) for title, _, callback in fault_commands(app, app.driver.active_faults())]


async def test_hidden_faults_stay_out_of_the_log_the_palette_and_the_list(write_mission):
    text = job_mission().replace("seed = 7\n", "seed = 7\nhide_faults = true\n")
    app = MissionControlApp(load_mission(write_mission(text)), seed=1, tick_hz=None)
    app.driver.sim.run_until(1800.0)
    async with app.run_test(size=WIDE) as pilot:
        notes = record_notifications(app)
        sat = app.driver.sim.satellite_ids[0]
        screen = await open_dialog(app, pilot, sat)
        assert "operators see only the symptoms" in str(screen.query_one("#fault-hidden-note").render())
        await choose_kind_programmatically(pilot, screen, FaultKind.BATTERY_CELL_LOSS)
        screen.submit()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        (fault,) = app.driver.active_faults()
        assert notes == [f"fault {fault.id} injected; hidden from operators"]
        lines = log_lines(app)
        assert not any(fault.id in line or "battery cell" in line.lower() for line in lines)
        # A refusal (its reason may name the fault) stays in the dialog: neither logged nor notified.
        screen = await open_dialog(app, pilot, sat)
        assert screen.kind == FaultKind.BATTERY_CELL_LOSS
        await choose_kind_programmatically(pilot, screen, FaultKind.GPU_FAILURE)
        app.driver.inject_fault(FaultRequest("gpu_failure", satellite=sat, gpu=int(screen.query_one("#fault-gpu", Select).value)))
        screen.submit()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert screen.error.startswith("refused:") and len(notes) == 1
        assert log_lines(app) == lines
        await pilot.press("escape", "f")
        await pilot.pause()
        listing = app.screen
        assert isinstance(listing, FaultListScreen)
        assert "hides faults from operators" in listing.status_text and not listing.shown
        assert not listing.query_one("#fault-table").display
        await pilot.press("c")  # nothing to clear while hidden
        await pilot.pause()
        assert app.screen is listing
        await pilot.press("r")
        await pilot.pause()
        assert len(listing.shown) == 2 and "Hidden from operators" in listing.status_text
        await pilot.press("escape")
        await pilot.pause()
        titles = await palette_titles(app, "fault")
        assert titles == [f"Inject fault on {app.selected_id}…", "Show faults"], "no entry names a hidden fault"


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
async def test_the_dialog_fits_the_terminal_for_every_kind(job_app, size):
    app = job_app
    async with app.run_test(size=size) as pilot:
        screen = await open_dialog(app, pilot, app.driver.sim.satellite_ids[0])
        width, height = size
        for kind in screen.kinds:
            await choose_kind_programmatically(pilot, screen, kind)
            for widget_id in ("#fault-submit", "#fault-cancel", "#fault-preview", "#fault-kind"):
                region = screen.query_one(widget_id).region
                assert region.width > 0 and region.right <= width and region.bottom <= height, (kind, widget_id, region)
            form = screen.query_one("#fault-form")
            assert form.virtual_size.height <= form.size.height, f"{kind}: the form scrolls at {size}"
