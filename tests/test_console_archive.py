"""The console records into an archive as it runs, and opens a recorded run as a replay: the same run,
re-simulated from mission + seed + journal and checked against the recorded telemetry as it plays;
operator commands are refused in a replay; a tampered recording pauses the replay at the first difference."""

from __future__ import annotations

import sqlite3

import pytest

from console.app import make_app, make_replay_app
from engine.archive import ArchiveError, ArchiveReader
from engine.commands import CommandError, DrainSatellite, SetGpuPowerCap


async def _record(path, frames: int = 20):
    app = make_app("sandbox", tick_hz=None, record_to=path)
    async with app.run_test(size=(160, 48)) as pilot:
        driver = app.driver
        driver.toggle_pause()
        for _ in range(frames):
            app.advance(1.0)
            await pilot.pause()
        driver.apply(DrainSatellite(driver.sim.satellite_ids[3]))
        driver.apply(SetGpuPowerCap(driver.sim.satellite_ids[0], 400.0))
        for _ in range(frames):
            app.advance(1.0)
            await pilot.pause()
        driver.apply(SetGpuPowerCap(driver.sim.satellite_ids[1], 350.0))  # after the last step
        return driver.sim.step_index, driver.sim.snapshot()


async def _play(app, frames: int = 200):
    driver = app.driver
    driver.toggle_pause()
    for _ in range(frames):
        app.advance(1.0)
        if driver.paused:
            break
    return driver


async def test_a_recorded_console_run_replays_identically(tmp_path):
    path = tmp_path / "session.omc"
    steps, final = await _record(path)
    with ArchiveReader(path) as archive:
        assert archive.last_step()[0] == steps and len(archive.journal()) == 3
    app = make_replay_app(path, tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        driver = await _play(app)
        await pilot.pause()
        assert driver.sim.step_index == steps, "stopped at the end of the recording"
        assert driver.replay_mismatch is None and driver.recording_check.samples_checked > 100
        assert (driver.sim.snapshot().drained == final.drained).all()
        assert (driver.sim.snapshot().battery_soc == final.battery_soc).all()
        with ArchiveReader(path) as archive:
            assert driver.sim.journal == archive.journal(), "what the operator did after the last step plays too"
        with pytest.raises(CommandError, match="replay of a recorded run"):
            driver.apply(DrainSatellite(driver.sim.satellite_ids[5]))
        assert "REPLAY" in app.title


async def test_a_tampered_recording_pauses_the_replay_at_the_first_difference(tmp_path):
    path = tmp_path / "tampered.omc"
    await _record(path)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM journal WHERE entry LIKE '%drain%'")
    app = make_replay_app(path, tick_hz=None)
    notes: list[str] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.notify = lambda message, title="", **kw: notes.append(f"{title}: {message}")  # type: ignore[method-assign]
        driver = await _play(app)
        await pilot.pause()
        mismatch = driver.replay_mismatch
        assert mismatch is not None and driver.paused
        assert any(note.startswith("Replay mismatch: the re-run differs from the recording at step") for note in notes)


def test_an_empty_or_foreign_archive_is_refused(tmp_path):
    junk = tmp_path / "junk.omc"
    junk.write_text("not an archive")
    with pytest.raises(ArchiveError, match="not a readable archive"):
        make_replay_app(junk, tick_hz=None)


async def test_a_replay_says_so_and_its_command_keys_do_nothing(tmp_path):
    from console.widgets.clock_bar import ClockBar

    path = tmp_path / "keys.omc"
    await _record(path, frames=5)
    app = make_replay_app(path, tick_hz=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "REPLAY" in app.query_one(ClockBar).render_line(0).text
        await pilot.press("d")
        await pilot.pause()
        assert len(app.screen_stack) == 1, "no drain dialog in a replay"


async def test_a_replay_goes_back_and_plays_the_recording_on_identically(tmp_path):
    path = tmp_path / "seek.omc"
    steps, final = await _record(path)
    app = make_replay_app(path, tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        driver = app.driver
        driver.checkpoint_min_wall_s = 0.0
        await _play(app)
        assert driver.sim.step_index == steps
        back = driver.rewind(driver.sim.time_s / 3)
        assert driver.sim.step_index == back < steps and driver.paused
        await _play(app)
        await pilot.pause()
        assert driver.sim.step_index == steps and driver.replay_mismatch is None
        assert (driver.sim.snapshot().battery_soc == final.battery_soc).all()
        assert (driver.sim.snapshot().drained == final.drained).all(), "the recorded drain played again"


def test_a_console_session_samples_big_fleets_less_often():
    from console.app import console_telemetry_period_s

    assert console_telemetry_period_s(60) == 60.0 and console_telemetry_period_s(1000) == 60.0
    assert console_telemetry_period_s(10_080) == 660.0
