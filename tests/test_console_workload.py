"""The console's job, drain and GPU commands, driven with keys and the palette over a real simulation of a
small fleet running jobs: each flow asks, confirms what is hazardous, reaches the engine as one command,
and is logged; a refusal changes nothing and says why."""

from __future__ import annotations

import math

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from console.app import MissionControlApp
from console.screens.confirm import ConfirmScreen
from console.screens.job_queue import JobQueueScreen
from console.screens.number_input import NumberInputScreen
from console.widgets.event_log import EventLog
from console.widgets.gpu_pane import GpuPane
from console.widgets.job_pane import JobPane
from engine import load_mission
from engine.gpu_health import GpuHealthState
from tests.conftest import SMALL_MISSION
from tests.test_gpu_job_widgets import job_mission

WIDE = (200, 60)


@pytest.fixture
def job_app(write_mission) -> MissionControlApp:
    """Thirty minutes into a small fleet running LLM-1 (4 GPUs), a held LLM-2 and inference jobs (with
    ideal telemetry: this fleet never passes over its one station, and these tests are about the commands)."""
    app = MissionControlApp(load_mission(write_mission(job_mission())), seed=1, tick_hz=None)
    app.driver.sim.run_until(1800.0)
    return app


def log_lines(app: MissionControlApp) -> list[str]:
    return [row.cells[-1] for row in app.query_one(EventLog).visible_rows()]


def job_state(app: MissionControlApp, job_id: str) -> tuple[str, str]:
    job = next(view for view in app.driver.sim.job_views() if view.id == job_id)
    return job.state, job.reason


def satellite_of(app: MissionControlApp, job_id: str) -> str:
    job = next(view for view in app.driver.sim.job_views() if view.id == job_id)
    return app.driver.sim.satellite_ids[job.satellites[0]]


async def select(app: MissionControlApp, pilot, satellite_id: str) -> None:
    app.select_satellite(satellite_id)
    await pilot.pause()


async def test_detail_shows_the_gpu_grid_and_the_satellites_jobs(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        satellite = satellite_of(app, "LLM-1")
        await select(app, pilot, satellite)
        app.refresh_now()
        gpu_text = app.query_one(GpuPane).text
        job_text = app.query_one(JobPane).text
        snap = app.driver.sim.snapshot()
        index = snap.index_of(satellite)
        assert gpu_text.startswith(f"{int(snap.gpu_present[index].sum())} GPUs:")
        assert gpu_text.count("LLM-1") == sum(1 for job in snap.gpu_job[index] if job >= 0 and snap.job_ids[job] == "LLM-1")
        expected = [job.id for job in app.driver.sim.satellite_jobs(satellite)]
        assert "LLM-1" in expected
        for job_id in expected:
            assert job_id in job_text
        # The GPU grid takes two of three columns, so its cells sit two to a line.
        assert app.query_one(GpuPane).styles.column_span == 2
        assert any("│" in line for line in gpu_text.splitlines()[3:])


async def test_job_queue_cancel_asks_first_and_declining_changes_nothing(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("j")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobQueueScreen) and app.job_queue is screen
        assert screen.table.cursor_job_id == "LLM-1"  # running jobs first
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Cancel job LLM-1" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("n")
        await pilot.pause()
        assert job_state(app, "LLM-1")[0] == "RUNNING"
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert job_state(app, "LLM-1")[0] == "CANCELLED"
        app.advance(0.0)
        assert "1 cancelled" in screen.header_text
        await pilot.press("escape")
        await pilot.pause()
        assert app.job_queue is None and not isinstance(app.screen, JobQueueScreen)
        lines = log_lines(app)
        assert any("declined: cancel job LLM-1" in line for line in lines)
        assert any("operator: job LLM-1 cancelled" in line for line in lines)


async def test_release_hold_and_priority_from_the_queue(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("j")
        await pilot.pause()
        table = app.screen.table
        table.select_key("LLM-2")
        await pilot.press("l")  # not hazardous: no confirmation
        await pilot.pause()
        assert job_state(app, "LLM-2")[1] != "Held"
        app.advance(0.0)  # the queue shows the release on the next frame
        assert table.cursor_job_id == "LLM-2" and table.cursor_job.reason != "Held"
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, NumberInputScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"5000", "enter")
        await pilot.pause()
        job = next(view for view in app.driver.sim.job_views() if view.id == "LLM-2")
        assert job.priority == 5000.0
        assert any("job LLM-2 priority set to 5000" in line for line in log_lines(app))


async def test_drain_confirms_then_undrain_is_immediate(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        satellite = satellite_of(app, "LLM-1")
        await select(app, pilot, satellite)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = str(app.screen.query_one("#confirm-text").render())
        assert f"Drain {satellite}?" in text and "LLM-1" in text
        await pilot.press("y")
        await pilot.pause()
        snap = app.driver.sim.snapshot()
        assert bool(snap.drained[snap.index_of(satellite)])
        assert "DRAINED" in app.query_one(JobPane).text
        await pilot.press("d")  # back in service: no question
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        snap = app.driver.sim.snapshot()
        assert not bool(snap.drained[snap.index_of(satellite)])
        assert any(f"operator: {satellite} undrained" in line for line in log_lines(app))


async def test_gpu_reset_asks_which_gpu_and_confirms_and_a_failed_gpu_is_refused(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        satellite = satellite_of(app, "LLM-1")
        restarts_before = next(view for view in app.driver.sim.job_views() if view.id == "LLM-1").restarts
        await select(app, pilot, satellite)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, NumberInputScreen)
        await pilot.press("9", "enter")  # the satellite has GPUs 0-3
        await pilot.pause()
        assert isinstance(app.screen, NumberInputScreen) and "out of range" in app.screen.error
        app.screen.query_one(Input).value = ""
        await pilot.press("1", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "LLM-1" in str(app.screen.query_one("#confirm-text").render())  # its job dies and requeues
        await pilot.press("y")
        await pilot.pause()
        index = app.driver.sim.satellite_ids.index(satellite)
        assert app.driver.sim.snapshot().gpu_health[index, 1] == GpuHealthState.RESETTING
        await pilot.press("full_stop")  # the engine rolls the job back at the next step
        after = next(view for view in app.driver.sim.job_views() if view.id == "LLM-1")
        assert after.restarts == restarts_before + 1
        snap = app.driver.sim.snapshot()
        assert snap.gpu_job[index, 1] < 0 or snap.job_ids[snap.gpu_job[index, 1]] != "LLM-1"

        app.driver.sim.health.fail(index, 2, "test")
        before = app.driver.sim.snapshot().gpu_health.copy()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("2", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, (ConfirmScreen, NumberInputScreen))  # refused at once, no question
        assert (app.driver.sim.snapshot().gpu_health == before).all()
        assert any("refused" in line and "FAILED" in line for line in log_lines(app))


async def test_gpu_power_off_confirms_and_on_is_immediate(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        satellite = app.driver.sim.satellite_ids[-1]
        await select(app, pilot, satellite)
        index = app.driver.sim.satellite_ids.index(satellite)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("3", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.driver.sim.snapshot().gpu_health[index, 3] == GpuHealthState.OFF
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("3", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.driver.sim.snapshot().gpu_health[index, 3] == GpuHealthState.RESETTING  # booting


async def test_power_cap_refuses_out_of_range_then_caps_and_lifts(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        satellite = app.selected_id
        floor_w, tdp_w = app.driver.gpu_power_cap_range_w(satellite)
        await pilot.press("w")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NumberInputScreen) and (screen.minimum, screen.maximum) == (round(floor_w, 1), tdp_w)
        await pilot.press(*"5000", "enter")
        await pilot.pause()
        assert app.screen is screen and "out of range" in screen.error
        screen.query_one(Input).value = ""
        await pilot.press(*"400", "enter")
        await pilot.pause()
        snap = app.driver.sim.snapshot()
        assert snap.gpu_power_cap_w[snap.index_of(satellite)] == 400.0
        assert "cap 400 W per GPU" in app.query_one(GpuPane).text
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")  # empty: lift the cap
        await pilot.pause()
        snap = app.driver.sim.snapshot()
        assert math.isnan(snap.gpu_power_cap_w[snap.index_of(satellite)])


async def test_satellite_commands_are_off_over_a_dialog_or_the_queue(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("j")
        await pilot.pause()
        await pilot.press("d", "w")
        await pilot.pause()
        assert isinstance(app.screen, JobQueueScreen)
        await pilot.press("escape", "w")
        await pilot.pause()
        assert isinstance(app.screen, NumberInputScreen)
        await pilot.press("r")  # typed into the field, not a second dialog
        await pilot.pause()
        assert len(app.screen_stack) == 2


async def test_palette_names_jobs_and_satellites(job_app):
    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"cancel job llm-1")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Cancel job LLM-1" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("escape")
        await pilot.pause()
        target = app.driver.sim.satellite_ids[-1]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*f"select {target}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected_id == target


async def test_without_jobs_the_queue_and_drain_say_so(write_mission):
    app = MissionControlApp(load_mission(write_mission(SMALL_MISSION)), tick_hz=None)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("j", "d")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert "synthetic load" in app.query_one(JobPane).text


async def test_help_lists_the_job_and_gpu_keys(job_app):
    from console.screens.help import HelpScreen
    from console.widgets.job_table import JobTable

    app = job_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text").render().plain
        assert "Jobs, GPUs and links (the selected satellite)" in text and "Job queue (j)" in text
        for binding in JobTable.BINDINGS:
            assert binding.description in text
        for description in ("Drain/undrain satellite", "Reset a GPU", "GPU off/on", "GPU power cap", "Job queue"):
            assert description in text
