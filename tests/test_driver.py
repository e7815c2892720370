"""The console driver: pause, step, speed, frame budgets and seeking, driven with explicit wall time."""

from __future__ import annotations

import math

from console.driver import SPEEDS, Driver
from engine import EventKind, Simulation


def frozen_clock() -> float:
    return 0.0  # the per-frame wall-time budget never runs out: tests count steps, not seconds


def test_paused_by_default_and_resume_runs_at_the_selected_speed(small_spec):
    driver = Driver(Simulation(small_spec))
    assert driver.paused and driver.speed == 60
    frame = driver.advance(1.0, clock=frozen_clock)
    assert frame.steps == 0 and frame.snapshot.time_s == 0.0
    driver.toggle_pause()
    frame = driver.advance(0.5, clock=frozen_clock)  # 0.5 s of wall time at 60x = 30 s = 3 steps of 10 s
    assert frame.steps == 3 and frame.snapshot.time_s == 30.0 and not frame.lagging
    frame = driver.advance(0.1, clock=frozen_clock)  # 6 s owed: less than a step, carried to the next frame
    assert frame.steps == 0
    frame = driver.advance(0.1, clock=frozen_clock)
    assert frame.steps == 1 and frame.snapshot.time_s == 40.0


def test_speed_steps_through_the_table_and_stops_at_its_ends(small_spec):
    driver = Driver(Simulation(small_spec))
    for _ in range(30):
        driver.faster()
    assert math.isinf(driver.speed)
    for _ in range(30):
        driver.slower()
    assert driver.speed == SPEEDS[0] == 1


def test_single_step_pauses_and_advances_exactly_one_step(small_spec):
    driver = Driver(Simulation(small_spec))
    driver.toggle_pause()
    frame = driver.step_once()
    assert frame.paused and frame.steps == 1 and frame.snapshot.step_index == 1


def test_frame_budget_bounds_work_and_reports_lag_without_piling_up_debt(small_spec):
    driver = Driver(Simulation(small_spec), max_steps_per_frame=10)
    driver.speed_index = SPEEDS.index(10000)
    driver.toggle_pause()
    frame = driver.advance(1.0, clock=frozen_clock)  # asks for 1,000 steps
    assert frame.steps == 10 and frame.lagging
    frame = driver.advance(0.001, clock=frozen_clock)  # at most one step carried over + 10 s new: the unpaid 9,900 s were dropped
    assert frame.steps == 2


def test_seek_stops_on_the_next_event_of_that_kind_and_loses_no_events(small_spec):
    driver = Driver(Simulation(small_spec), max_steps_per_frame=25)
    reference = Simulation(small_spec)
    driver.seek(EventKind.ECLIPSE_ENTRY)
    delivered = []
    for _ in range(100):
        frame = driver.advance(0.05, clock=frozen_clock)
        delivered.extend(frame.events)
        if frame.found is not None:
            break
    assert frame.found is not None and frame.found.kind == EventKind.ECLIPSE_ENTRY
    assert driver.paused and driver.seeking is None
    assert frame.found in frame.events
    assert frame.found.time_s <= frame.snapshot.time_s < frame.found.time_s + small_spec.step_s
    reference.run_until(frame.snapshot.time_s)
    assert delivered == reference.drain_events()
    earlier_entries = [e for e in delivered if e.kind == EventKind.ECLIPSE_ENTRY and e is not frame.found]
    assert all(e.time_s >= frame.found.time_s for e in earlier_entries)  # nothing skipped before it


def test_seek_for_one_satellite_ignores_the_others(small_spec):
    driver = Driver(Simulation(small_spec), max_steps_per_frame=50)
    target = small_spec.satellites[-1].id
    driver.seek(EventKind.ECLIPSE_ENTRY, satellite=target)
    others = []
    for _ in range(200):
        frame = driver.advance(0.05, clock=frozen_clock)
        others.extend(e for e in frame.events if e.kind == EventKind.ECLIPSE_ENTRY and e.satellite != target)
        if frame.found is not None:
            break
    assert frame.found is not None and frame.found.satellite == target and driver.paused
    assert others, "other satellites entered eclipse first and did not stop the seek"


def test_seek_gives_up_after_the_limit_and_pauses(small_spec, monkeypatch):
    import console.driver as driver_module

    monkeypatch.setattr(driver_module, "SEEK_LIMIT_S", 600.0)
    driver = Driver(Simulation(small_spec), max_steps_per_frame=1000)
    driver.seek(EventKind.SAFE_MODE_ENTRY)  # never happens in a healthy fleet
    frame = driver.advance(0.05, clock=frozen_clock)
    assert frame.seek_gave_up and frame.found is None and driver.paused and driver.seeking is None
    assert 600.0 <= frame.snapshot.time_s < 600.0 + small_spec.step_s + 1e-9


def test_running_stops_at_the_planned_mission_end_once_then_runs_on(small_spec):
    driver = Driver(Simulation(small_spec), end_s=100.0, max_steps_per_frame=1000)
    driver.speed_index = SPEEDS.index(600)
    driver.toggle_pause()
    frame = driver.advance(0.1, clock=frozen_clock)  # 60 s: not there yet
    assert not frame.reached_end and frame.snapshot.time_s == 60.0
    frame = driver.advance(1.0, clock=frozen_clock)  # asks for 600 s more: stops exactly at the end
    assert frame.reached_end and frame.paused and driver.paused and not frame.lagging
    assert frame.snapshot.time_s == 100.0 and frame.steps == 4
    driver.toggle_pause()  # the operator runs on past the planned end: no second stop
    frame = driver.advance(1.0, clock=frozen_clock)
    assert not frame.reached_end and not frame.paused and frame.snapshot.time_s == 700.0


def test_a_seek_also_stops_at_the_mission_end(small_spec):
    driver = Driver(Simulation(small_spec), end_s=30.0)
    driver.seek(EventKind.ECLIPSE_ENTRY, None)
    frame = driver.advance(0.1, clock=frozen_clock)
    assert frame.reached_end and frame.paused and frame.found is None and frame.snapshot.time_s == 30.0
    assert driver.seeking is None


def test_a_frame_does_not_start_a_step_that_would_overrun_its_budget(small_spec):
    driver = Driver(Simulation(small_spec), max_steps_per_frame=100, frame_work_s=0.05)
    driver.speed_index = SPEEDS.index(10000)
    driver.toggle_pause()
    step_cost = {"s": 0.03}
    clock = lambda: driver.sim.step_index * step_cost["s"]  # noqa: E731 - each step "takes" step_cost
    assert driver.advance(1.0, clock=clock).steps == 1  # 30 ms done, another 30 would pass 50 ms
    step_cost["s"] = 0.02
    assert driver.advance(1.0, clock=clock).steps == 2
    driver.seek(EventKind.SAFE_MODE_ENTRY)  # seeks (and MAX) keep the whole max_frame_work_s
    driver.max_frame_work_s = 0.105
    assert driver.advance(1.0, clock=clock).steps == 5


def test_an_interrupt_or_a_thread_waiting_for_the_lock_ends_the_frame_after_its_step(small_spec):
    import threading

    driver = Driver(Simulation(small_spec), max_steps_per_frame=50)
    driver.speed_index = SPEEDS.index(10000)
    driver.toggle_pause()
    driver.lock.interrupt()  # e.g. the operator moved the selection while this frame steps
    assert driver.advance(1.0, clock=frozen_clock).steps == 1
    assert driver.advance(1.0, clock=frozen_clock).steps == 50  # the interrupt lasts one frame

    waited = threading.Event()
    original = driver._step

    def step_while_someone_waits() -> None:
        original()
        if driver.sim.step_index == 61:  # a key handler asks for the lock in the middle of a frame
            threading.Thread(target=lambda: (driver.lock.acquire(), waited.set(), driver.lock.release())).start()
            while not driver.lock.contended:
                pass

    driver._step = step_while_someone_waits
    assert driver.advance(1.0, clock=frozen_clock).steps == 10  # steps 52..61, then the waiting thread's turn
    assert waited.wait(5.0) and not driver.lock.contended


def test_pausing_does_not_wait_for_the_frame_in_progress(small_spec):
    import threading

    driver = Driver(Simulation(small_spec))
    driver.seek(EventKind.SAFE_MODE_ENTRY)
    held, release = threading.Event(), threading.Event()
    worker = threading.Thread(target=lambda: (driver.lock.acquire(), held.set(), release.wait(5.0), driver.lock.release()))
    worker.start()
    held.wait(5.0)
    assert driver.toggle_pause() is True  # returns at once although another thread holds the lock
    assert driver.paused and driver.seeking is None
    release.set()
    worker.join()
    frame = driver.advance(1.0, clock=frozen_clock)
    assert frame.paused and frame.steps == 0 and driver._seeking is None and driver._debt_s == 0.0
    assert driver.toggle_pause() is False and not driver.paused


def test_checkpoints_take_a_bounded_share_of_wall_time(small_spec):
    from console.driver import CHECKPOINT_WALL_SHARE
    from engine.checkpoints import Checkpoints

    driver = Driver(Simulation(small_spec), checkpoint_min_wall_s=0.0)
    driver.checkpoints = Checkpoints(driver.sim, every_s=10.0)  # due after every step
    driver.toggle_pause()
    for _ in range(5):
        driver.step_once()
    assert len(driver.checkpoints.steps) == 2  # the first copy's cost defers the next well past these steps
    assert driver.last_checkpoint_cost_s > 0
    assert math.isclose(driver._next_checkpoint_wall - driver._last_checkpoint_wall,
                        driver.last_checkpoint_cost_s / CHECKPOINT_WALL_SHARE)


def test_checkpoints_stop_once_a_copy_would_stall_the_console(small_spec):
    from engine.checkpoints import Checkpoints

    driver = Driver(Simulation(small_spec), checkpoint_min_wall_s=0.0, checkpoint_max_copy_s=1e-9)
    driver.checkpoints = Checkpoints(driver.sim, every_s=10.0)
    driver.step_once()
    assert len(driver.checkpoints.steps) == 2 and driver.checkpoints_stopped
    driver._next_checkpoint_wall = 0.0  # not held back by the wall-time share: stopped by the copy's cost
    for _ in range(3):
        driver.step_once()
    assert len(driver.checkpoints.steps) == 2
