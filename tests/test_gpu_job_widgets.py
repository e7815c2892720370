"""The GPU and job panes, the job table and queue screen, and the confirm and number dialogs, over real
simulations of a small fleet running jobs."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from console.detail import SatelliteView
from console.screens.confirm import ConfirmScreen
from console.screens.job_queue import JobQueueScreen
from console.screens.number_input import NumberInputScreen
from console.widgets.gpu_pane import GpuPane
from console.widgets.job_pane import JobPane, format_age
from console.widgets.job_table import JOB_FILTERS, JobTable, cancel_consequence, format_satellites
from engine import Simulation, load_mission
from engine.commands import CancelJob, DrainSatellite, HoldJob, ReleaseJob, RequeueJob, SetGpuPowerCap, SetJobPriority
from engine.gpu_health import GpuHealthState
from tests.conftest import IDEAL_NETWORK, SMALL_MISSION

JOBS = """
[[scheduler.partition]]
name = "training"
tier = 1
preempt_mode = "requeue"

[[job]]
id = "LLM-1"
partition = "training"
gpus = 4
gpu_hours = 10
checkpoint_size_gb = 50

[[job]]
id = "LLM-2"
partition = "training"
gpus = 8
gpu_hours = 4
hold = true

[[workload.generator]]
name = "chat"
kind = "inference"
rate_per_hour = 60
duration = "3m"
gpus = [1, 2]
"""

PANE_WIDTHS = (40, 65)
"""Pane widths (border and padding included) the panes must read well at."""


def job_mission(gpus: int = 4) -> str:
    """The small fleet running JOBS, with ideal telemetry (it never passes over its one station)."""
    return SMALL_MISSION.replace("gpus = 4\n", f"gpus = {gpus}\n") + JOBS + IDEAL_NETWORK


def simulation(write_mission, text: str, until_s: float) -> Simulation:
    sim = Simulation(load_mission(write_mission(text)), seed=1)
    sim.run_until(until_s)
    return sim


def view_of(sim: Simulation, satellite_id: str) -> SatelliteView:
    snap = sim.snapshot()
    return SatelliteView(snap, snap.index_of(satellite_id), sim.history(satellite_id), None, (), tuple(sim.satellite_jobs(satellite_id)))


def plain(lines) -> list[str]:
    return [line.plain for line in lines]


# ------------------------------------------------------------------------------------------- GPU pane


def test_gpu_pane_counts_cells_failure_cap_and_drain(write_mission):
    sim = simulation(write_mission, job_mission(), 1800.0)
    sat = sim.satellite_ids[0]
    before = plain(GpuPane().lines(view_of(sim, sat), 61))
    snap = sim.snapshot()
    counts = np.bincount(snap.gpu_health[0][snap.gpu_present[0]], minlength=5)
    assert before[0] == f"4 GPUs: {counts[0]} ok · {counts[1]} degraded · {counts[2]} resetting · {counts[3]} failed"
    assert before[1].startswith("Dose") and f"{snap.dose_rad[0] * 1e3:.1f} mrad" in before[1]
    assert f"upsets ×{snap.radiation_multiplier[0]:.1f}" in before[1]
    assert not any(line.startswith("Operator") for line in before)  # no cap, not drained
    cells = [cell for line in before[3:] for cell in line.split("│")]
    assert len(cells) == 4
    for g, cell in enumerate(cells):
        fields = cell.split()
        assert fields[0] == str(g)
        assert fields[2] == f"{snap.gpu_temp_c[0, g]:.0f}" and fields[3] == f"{snap.gpu_power_w[0, g]:.0f}"
        assert fields[4] == f"{snap.gpu_ecc_corrected[0, g]}/{snap.gpu_ecc_uncorrected[0, g]}"
        job = int(snap.gpu_job[0, g])
        assert fields[5] == (snap.job_ids[job] if job >= 0 else "idle")
    assert "LLM-1" in before[-1]  # the training job runs on the first satellite

    sim.health.fail(0, 1, "test")
    sim.apply(SetGpuPowerCap(sat, 500))
    sim.apply(DrainSatellite(sat))
    sim.step(10.0)
    snap = sim.snapshot()
    assert snap.gpu_health[0, 1] == GpuHealthState.FAILED
    after = plain(GpuPane().lines(view_of(sim, sat), 61))
    failed = int((snap.gpu_health[0][snap.gpu_present[0]] == GpuHealthState.FAILED).sum())
    assert failed == counts[3] + 1
    assert after[0].endswith(f"· {failed} failed") and after[0] != before[0]
    assert after[2] == "Operator cap 500 W per GPU · DRAINED no new work"
    gpu_1 = next(cell for line in after[4:] for cell in line.split("│") if cell.split()[0] == "1")
    assert gpu_1.split()[1] == "FAIL" and gpu_1.split()[-1] == "—"  # a failed GPU runs nothing


@pytest.mark.parametrize("gpus", [8, 16])
@pytest.mark.parametrize("pane_width", PANE_WIDTHS)
async def test_gpu_grid_fits_the_pane_one_or_two_cells_a_line(write_mission, gpus, pane_width):
    sim = simulation(write_mission, job_mission(gpus), 600.0)

    class PaneApp(App[None]):
        def compose(self) -> ComposeResult:
            yield GpuPane()

    app = PaneApp()
    async with app.run_test(size=(pane_width + 10, 50)) as pilot:
        pane = app.query_one(GpuPane)
        pane.styles.width = pane_width
        await pilot.pause()
        pane.show(view_of(sim, sim.satellite_ids[0]))
        await pilot.pause()
        width = pane.content_region.width
        assert width == pane_width - 4
        lines = pane.text.splitlines()
        assert all(len(line) <= width for line in lines)
        per_line = 1 if pane_width == 40 else 2
        grid = lines[lines.index(next(line for line in lines if line.lstrip().startswith("# st"))) + 1 :]
        assert len(grid) == gpus // per_line
        assert all(line.count("│") == per_line - 1 for line in grid)
        assert [int(cell.split()[0]) for line in grid for cell in line.split("│")] == list(range(gpus))
        assert lines[0].startswith(f"{gpus} GPUs: ")


# ------------------------------------------------------------------------------------------- job pane


def test_job_pane_lists_the_satellites_jobs_with_progress(write_mission):
    sim = simulation(write_mission, job_mission(), 1800.0)
    snap = sim.snapshot()
    llm = next(job for job in sim.job_views() if job.id == "LLM-1")
    assert llm.state == "RUNNING" and llm.satellites
    sat = snap.satellite_ids[llm.satellites[0]]
    view = view_of(sim, sat)
    assert view.jobs and "LLM-1" in [job.id for job in view.jobs]
    for width in (36, 61):
        lines = plain(JobPane().lines(view, width))
        busy = int((snap.gpu_job[view.index][snap.gpu_present[view.index]] >= 0).sum())
        assert lines[0] == f"{len(view.jobs)} job{'s' if len(view.jobs) != 1 else ''} · {busy}/4 GPUs busy"
        assert all(len(line) <= width for line in lines)
        for job, line in zip(view.jobs, lines[2:]):
            here = int(sum(snap.job_ids[j] == job.id for j in snap.gpu_job[view.index] if j >= 0))
            fields = line.split()
            assert fields[0] == job.id and fields[1] == "RUN"
            assert fields[2] == f"{here}/{job.gpus}"
            assert f"{job.progress:.0%}" in fields
            assert "█" in line or "░" in line  # the progress bar
    llm_line = next(line for line in plain(JobPane().lines(view, 61)) if line.startswith("LLM-1"))
    assert llm_line.split()[-1] == format_age(llm.checkpoint_age_s)

    idle = next(s for s in snap.satellite_ids if not sim.satellite_jobs(s))
    assert plain(JobPane().lines(view_of(sim, idle), 36))[-1] == "no jobs on this satellite"


def test_job_pane_says_when_the_mission_runs_no_jobs(write_mission):
    sim = simulation(write_mission, SMALL_MISSION, 60.0)
    assert not sim.snapshot().jobs_enabled
    lines = plain(JobPane().lines(view_of(sim, sim.satellite_ids[0]), 36))
    assert lines == ["this mission runs a synthetic load (no jobs)"]


# ------------------------------------------------------------------------------------------ job table


class TableApp(App[None]):
    """Hosts a JobTable and applies its requests to a real simulation, as the console does."""

    def __init__(self, sim: Simulation) -> None:
        super().__init__()
        self.sim = sim
        self.requests: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield JobTable()

    def refresh_jobs(self) -> None:
        self.query_one(JobTable).update_jobs(self.sim.job_views(), self.sim.satellite_ids, self.sim.time_s)

    def on_mount(self) -> None:
        self.refresh_jobs()
        self.query_one(JobTable).focus()

    def on_job_table_cancel_requested(self, message: JobTable.CancelRequested) -> None:
        self.requests.append(("cancel", message.job_id))

    def on_job_table_hold_requested(self, message: JobTable.HoldRequested) -> None:
        self.requests.append(("hold", message.job_id))
        self.sim.apply(HoldJob(message.job_id))
        self.refresh_jobs()

    def on_job_table_release_requested(self, message: JobTable.ReleaseRequested) -> None:
        self.requests.append(("release", message.job_id))
        self.sim.apply(ReleaseJob(message.job_id))
        self.refresh_jobs()

    def on_job_table_requeue_requested(self, message: JobTable.RequeueRequested) -> None:
        self.requests.append(("requeue", message.job_id))

    def on_job_table_priority_requested(self, message: JobTable.PriorityRequested) -> None:
        self.requests.append(("priority", message.job_id))


@pytest.fixture
def job_sim(write_mission) -> Simulation:
    """Thirty minutes in: LLM-1 running, LLM-2 held, a stream of short inference jobs mostly finished."""
    return simulation(write_mission, job_mission(), 1800.0)


async def test_job_table_filters_order_and_cursor(job_sim):
    views = job_sim.job_views()
    finished = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}
    expected = {
        "all": {v.id for v in views},
        "active": {v.id for v in views if v.state not in finished},
        "pending": {v.id for v in views if v.state in ("PENDING", "REQUEUED")},
        "running": {v.id for v in views if v.state in ("RUNNING", "CHECKPOINTING", "SUSPENDED")},
        "finished": {v.id for v in views if v.state in finished},
    }
    assert expected["finished"] and expected["running"] and "LLM-2" in expected["pending"]
    app = TableApp(job_sim)
    async with app.run_test(size=(130, 20)) as pilot:
        table = app.query_one(JobTable)
        assert table.job_filter == "active"
        seen = []
        for _ in JOB_FILTERS:
            shown = table.shown_jobs()
            assert {job.id for job in shown} == expected[table.job_filter]
            assert table.border_title == f"Jobs · {table.job_filter} ({len(shown)} of {len(views)})"
            seen.append(table.job_filter)
            await pilot.press("f")
        assert sorted(seen) == sorted(JOB_FILTERS) and table.job_filter == "active"

        shown = table.shown_jobs()  # running first, then pending by priority
        assert [job.state for job in shown][: len(expected["running"])] == ["RUNNING"] * len(expected["running"])
        assert shown[-1].id == "LLM-2"
        await pilot.press("home")
        assert table.cursor_job_id == shown[0].id
        await pilot.press("end")
        assert table.cursor_job_id == "LLM-2"
        row = table.row_at(table.cursor_index)
        assert row.cells[1:4] == ("PENDING", "Held", "8") and row.style_class == "job-table--held"
        assert "LLM-2" in table.line_text(table.cursor_index + 1) and "satellites" in table.line_text(0)
        llm = table.row_at(table.index_of_key("LLM-1"))
        sat_ids = [job_sim.satellite_ids[i] for i in next(v for v in views if v.id == "LLM-1").satellites]
        assert llm.cells[7] == ",".join(sat_ids) and llm.cells[4].endswith("20%")
        table.job_filter = "pending"  # the cursor follows its job through a filter change
        await pilot.pause()
        assert table.cursor_job_id == "LLM-2" and table.cursor_index == 0


async def test_job_table_keys_post_only_what_applies(job_sim):
    app = TableApp(job_sim)
    async with app.run_test(size=(130, 20)) as pilot:
        table = app.query_one(JobTable)
        table.select_key("LLM-1")  # running
        await pilot.press("l", "h")  # not held; not pending: refused
        assert app.requests == []
        await pilot.press("q", "c", "p")
        assert app.requests == [("requeue", "LLM-1"), ("cancel", "LLM-1"), ("priority", "LLM-1")]

        table.select_key("LLM-2")  # pending, held
        await pilot.press("h", "q")  # already held; not running: refused
        assert len(app.requests) == 3
        await pilot.press("l")  # released through the engine; the cursor stays on the job
        await pilot.pause()
        assert app.requests[-1] == ("release", "LLM-2")
        assert table.cursor_job_id == "LLM-2" and table.cursor_job.reason != "Held"
        await pilot.press("h")  # pending and not held now: hold applies
        await pilot.pause()
        assert app.requests[-1] == ("hold", "LLM-2") and table.cursor_job.reason == "Held"

        table.job_filter = "finished"
        await pilot.pause()
        count = len(app.requests)
        done = table.cursor_job
        assert done is not None and done.state == "COMPLETED"
        await pilot.press("c", "p", "q", "l", "h")  # nothing applies to a finished job
        assert len(app.requests) == count


def test_consequence_text_and_satellite_abbreviation(job_sim):
    llm = next(job for job in job_sim.job_views() if job.id == "LLM-1")
    text = cancel_consequence(llm, job_sim.time_s)
    assert text.startswith("Cancel job LLM-1 (running, 20% done)?")
    assert "2.0 GPU-h of unsaved work since its start is lost" in text  # 4 GPUs for 30 minutes, never checkpointed
    ids = ["A-01-01", "A-01-02", "A-01-03"]
    assert format_satellites((0,), ids) == "A-01-01"
    assert format_satellites((0, 1), ids) == "A-01-01 +1"  # the table's column is 12 wide
    assert format_satellites((0, 1), ids, width=15) == "A-01-01,A-01-02"
    assert format_satellites((0, 1, 2), ids) == "A-01-01 +2"
    assert format_satellites((), ids) == "—"


# --------------------------------------------------------------------------------------- queue screen


class QueueApp(App[None]):
    def __init__(self, sim: Simulation) -> None:
        super().__init__()
        self.sim = sim
        self.cancelled: list[str] = []

    def show_queue(self) -> JobQueueScreen:
        screen = JobQueueScreen()
        self.push_screen(screen)
        return screen

    def on_job_table_cancel_requested(self, message: JobTable.CancelRequested) -> None:
        self.cancelled.append(message.job_id)
        self.sim.apply(CancelJob(message.job_id))


async def test_job_queue_screen_header_table_and_requests_reach_the_app(job_sim):
    app = QueueApp(job_sim)
    async with app.run_test(size=(130, 30)) as pilot:
        screen = app.show_queue()
        await pilot.pause()
        views, metrics = job_sim.job_views(), job_sim.workload_metrics()
        screen.update(views, metrics, job_sim.satellite_ids, job_sim.time_s)
        await pilot.pause()
        header = screen.header_text
        counts = metrics["jobs"]
        assert header.startswith(f"{len(views)} jobs · {counts['running']} running · {counts['pending']} pending")
        assert f"{counts['completed']} completed" in header and "1 held" in header
        assert f"GPUs in use {metrics['utilization_now']:.0%}" in header and f"goodput {metrics['goodput']:.0%}" in header
        assert "queue wait p50 " in header and " p95 " in header
        table = screen.table
        assert app.focused is table and table.cursor_job_id == "LLM-1"
        await pilot.press("c")  # posted by the table, handled by the app
        assert app.cancelled == ["LLM-1"]
        screen.update(job_sim.job_views(), job_sim.workload_metrics(), job_sim.satellite_ids, job_sim.time_s)
        assert "1 cancelled" in screen.header_text and "LLM-1" not in [job.id for job in table.shown_jobs()]
        await pilot.press("j")
        await pilot.pause()
        assert app.screen is not screen and len(app.screen_stack) == 1
        screen = app.show_queue()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1


# -------------------------------------------------------------------------------------------- dialogs


class DialogApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[object] = []

    def ask(self, screen) -> None:
        self.push_screen(screen, self.answers.append)


async def test_confirm_screen_answers_true_or_false_and_defaults_to_no():
    app = DialogApp()
    async with app.run_test() as pilot:
        for keys, answer in ((["y"], True), (["n"], False), (["escape"], False), (["enter"], False), (["tab", "enter"], True)):
            app.ask(ConfirmScreen("Cancel job", "Cancel job LLM-1? Its 2.0 GPU-h of unsaved work is lost."))
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and app.focused is not None and app.focused.id == "confirm-no"
            await pilot.press(*keys)
            await pilot.pause()
            assert app.answers[-1] is answer and not isinstance(app.screen, ConfirmScreen)
        assert len(app.answers) == 5


async def test_number_input_refuses_out_of_range_and_returns_the_value():
    app = DialogApp()
    async with app.run_test() as pilot:
        app.ask(NumberInputScreen("GPU power cap for A-01-01", minimum=140, maximum=700, unit="W", allow_clear=True, clear_text="lift the cap"))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NumberInputScreen)
        await pilot.press(*"5000", "enter")
        await pilot.pause()
        assert app.screen is screen and app.answers == []
        assert screen.error == "5000 is out of range: 140 to 700 W"
        screen.query_one(Input).value = ""
        await pilot.press(*"450", "enter")
        await pilot.pause()
        assert app.answers == [450.0] and app.screen is not screen

        app.ask(NumberInputScreen("GPU power cap", minimum=140, maximum=700, unit="W", allow_clear=True))
        await pilot.pause()
        await pilot.press("enter")  # empty: clear
        await pilot.pause()
        assert app.answers == [450.0, None]

        app.ask(NumberInputScreen("GPU to reset", minimum=0, maximum=3, integer=True))
        await pilot.pause()
        screen = app.screen
        await pilot.press("enter")  # empty is not an answer here
        await pilot.pause()
        assert app.screen is screen and screen.error == "enter a whole number from 0 to 3"
        await pilot.press(*"2.5", "enter")  # the field takes digits only
        await pilot.pause()
        assert screen.query_one(Input).value == "25" and screen.error.startswith("25 is out of range")
        screen.query_one(Input).value = "2.5"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.error == "2.5 is not a whole number"
        screen.query_one(Input).value = "2"
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers[-1] == 2 and isinstance(app.answers[-1], int)

        app.ask(NumberInputScreen("Priority", minimum=0, maximum=1e6, value=10))
        await pilot.pause()
        assert app.screen.query_one(Input).value == "10"
        await pilot.press("escape")  # cancelled: no answer at all
        await pilot.pause()
        assert not isinstance(app.screen, NumberInputScreen) and len(app.answers) == 3


def test_priority_answer_becomes_a_valid_engine_command(job_sim):
    screen = NumberInputScreen("Priority for LLM-2", minimum=0, maximum=1e6)
    value, reason = screen.parse("2500")
    assert reason == "" and value == 2500.0
    job_sim.apply(SetJobPriority("LLM-2", value))
    assert next(job for job in job_sim.job_views() if job.id == "LLM-2").priority == 2500.0
    assert screen.parse("-1")[1].startswith("-1 is out of range")
    assert screen.parse("abc")[1] == "'abc' is not a number"
    job_sim.apply(RequeueJob("LLM-1"))  # the requeue the table asks for is accepted by the engine
