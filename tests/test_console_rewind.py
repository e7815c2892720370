"""Rewinding the live console: R asks for a mission time, the console goes back to exactly the state the
run had then (rebuilt from the nearest checkpoint and the journal), paused; running on branches the
timeline; a time in the future is refused inside the dialog."""

from __future__ import annotations

import numpy as np

from console.app import make_app
from console.screens.number_input import NumberInputScreen
from engine.checkpoints import clone_simulation
from engine.commands import DrainSatellite


async def test_rewind_goes_back_to_the_exact_state_and_branches():
    app = make_app("sandbox", tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        driver = app.driver
        driver.checkpoint_min_wall_s = 0.0
        driver.toggle_pause()
        kept = None
        while driver.sim.time_s < 3 * 3600:
            app.advance(1.0)
            if kept is None and driver.sim.time_s >= 5400:
                driver.toggle_pause()
                kept = clone_simulation(driver.sim)
                driver.apply(DrainSatellite(driver.sim.satellite_ids[2]))
                driver.toggle_pause()
        await pilot.pause()
        target_s = kept.time_s
        await pilot.press("R")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NumberInputScreen)
        dialog.query_one("#number-input").value = str(target_s / 60.0)
        await pilot.press("enter")
        await pilot.pause()
        assert driver.paused and driver.sim.time_s == target_s
        before, now = kept.snapshot(), driver.sim.snapshot()
        for name, value in vars(before).items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(value, getattr(now, name), equal_nan=True), name
        assert not bool(now.drained[2]), "rewound to before the operator drained it"
        assert len(driver.sim.journal) == len(kept.journal)
        driver.toggle_pause()
        for _ in range(5):
            app.advance(1.0)
        assert driver.sim.time_s > target_s and not bool(driver.sim.snapshot().drained[2]), "a new timeline"


async def test_rewind_to_the_future_is_refused_in_the_dialog():
    app = make_app("sandbox", tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        driver = app.driver
        driver.toggle_pause()
        app.advance(30.0)
        driver.toggle_pause()
        now = driver.sim.time_s
        await pilot.press("R")
        await pilot.pause()
        app.screen.query_one("#number-input").value = str(now / 60.0 + 100)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NumberInputScreen) and "out of range" in app.screen.error
        assert driver.sim.time_s == now


async def test_a_recorded_session_keeps_both_branches_and_each_verifies(tmp_path):
    from engine.archive import ArchiveReader
    from engine.replay import verify_archive

    path = tmp_path / "branches.omc"
    app = make_app("sandbox", tick_hz=None, record_to=path)
    async with app.run_test(size=(160, 48)) as pilot:
        driver = app.driver
        driver.checkpoint_min_wall_s = 0.0
        driver.toggle_pause()
        while driver.sim.time_s < 2 * 3600:
            app.advance(1.0)
        driver.toggle_pause()
        driver.apply(DrainSatellite(driver.sim.satellite_ids[4]))
        first_end = driver.sim.step_index
        driver.rewind(3600.0)
        assert driver.archive.branch == 2
        driver.toggle_pause()
        for _ in range(10):
            app.advance(1.0)
        await pilot.pause()
    with ArchiveReader(path) as archive:
        branches = archive.branches()
        assert [(b["id"], b["parent"], b["fork_step"]) for b in branches] == [(1, None, None), (2, 1, 3600 // 10)]
        assert archive.last_step(1)[0] == first_end and archive.last_step(2)[0] > 3600 // 10
        assert any(e.kind == "command" for e in archive.journal(1)) and not any(e.kind == "command" for e in archive.journal(2))
        for branch in (1, 2):
            result = verify_archive(archive, branch=branch)
            assert result.ok and result.samples_checked > 0, (branch, result.mismatch)
