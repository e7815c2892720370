"""Mission timeline directives in the console: the driver pauses or changes speed where the timeline says,
the app shows notify captions, moves the view to the focused satellite and pane, and says when the
mission ends."""

from __future__ import annotations

from console.app import MissionControlApp
from engine import load_mission
from tests.test_faults import FLEET

TIMELINE = """
[[event]]
id = "speed"
at = "2m"
set_speed = 600

[[event]]
id = "caption"
at = "4m"
notify = { text = "Watch A-02-03's battery", level = "warning" }

[[event]]
id = "look"
at = "4m"
focus = { pane = "detail", satellite = "A-02-03" }

[[event]]
id = "stop"
at = "6m"
pause = true

[[event]]
id = "over"
at = "8m"
end = "that is the demo"
"""


async def test_the_console_follows_the_timeline(write_mission):
    app = MissionControlApp(load_mission(write_mission(FLEET + TIMELINE, "demo.toml")), tick_hz=None)
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.notify = lambda message, title="", **kw: notes.append((title, str(message)))  # type: ignore[method-assign]
        driver = app.driver
        driver.toggle_pause()
        while not driver.paused and driver.sim.time_s < 3600:
            app.advance(1.0)
            await pilot.pause()
        assert driver.speed == 600.0, "set_speed chose the nearest console speed"
        assert driver.sim.time_s == 6 * 60 + driver.sim.step_s, "paused at the step the pause fired in"
        assert ("Mission", "Watch A-02-03's battery") in notes
        assert app.selected_id == "A-02-03"
        driver.toggle_pause()
        while not driver.paused and driver.sim.time_s < 3600:
            app.advance(1.0)
            await pilot.pause()
        assert driver.sim.end_reason == "that is the demo"
        assert any(title == "Mission end" and "that is the demo" in text for title, text in notes)


AUTOPILOT = """
[[autopilot]]
id = "drain"
at = "2m"
caption = "The operator drains A-01-02 before its maintenance"
command = { name = "drain", satellite = "A-01-02" }

[[autopilot]]
id = "undrain"
after = "drain"
delay = "2m"
command = { name = "undrain", satellite = "A-01-02" }
"""


async def test_the_autopilot_plays_with_captions_until_a_key_takes_over(write_mission):
    app = MissionControlApp(load_mission(write_mission(FLEET + AUTOPILOT, "auto.toml")), tick_hz=None)
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.notify = lambda message, title="", **kw: notes.append((title, str(message)))  # type: ignore[method-assign]
        sim = app.driver.sim
        app.driver.toggle_pause()
        while sim.time_s < 3 * 60:
            app.advance(1.0)
            await pilot.pause()
        i = sim.satellite_ids.index("A-01-02")
        assert bool(sim.workload.drained[i]), "the autopilot's drain reached the engine"
        assert ("Mission", "The operator drains A-01-02 before its maintenance") in notes
        await pilot.press("s")  # a key that acts (sorts the fleet table)
        await pilot.pause()
        assert not app.driver.autopilot_active
        assert ("Autopilot", "you have the console: the autopilot has stopped") in notes
        while sim.time_s < 10 * 60:
            app.advance(1.0)
            await pilot.pause()
        assert bool(sim.workload.drained[i]), "after the takeover its undrain step does not play"
        assert [f.event_id for f in sim.autopilot.fired] == ["drain"]


async def test_time_control_keys_leave_the_autopilot_playing(write_mission):
    app = MissionControlApp(load_mission(write_mission(FLEET + AUTOPILOT, "auto.toml")), tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        for key in ("space", "plus", "minus", "space"):
            await pilot.press(key)
            await pilot.pause()
        assert app.driver.autopilot_active
        await pilot.press("j")
        await pilot.pause()
        assert not app.driver.autopilot_active


async def test_hints_pop_up_in_the_console(write_mission):
    text = FLEET + '[[hint]]\nid = "h"\nwhen = "sim.time > 1m"\ntext = "Have you looked at the alarms pane?"\n'
    app = MissionControlApp(load_mission(write_mission(text, "hint.toml")), tick_hz=None)
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.notify = lambda message, title="", **kw: notes.append((title, str(message)))  # type: ignore[method-assign]
        app.driver.toggle_pause()
        while app.driver.sim.time_s < 5 * 60:
            app.advance(1.0)
            await pilot.pause()
        assert notes.count(("Hint", "Have you looked at the alarms pane?")) == 1


async def test_the_mission_panel_shows_objectives_live_and_the_debrief_at_the_end(write_mission):
    from console.screens.mission import MissionScreen
    from tests.test_objectives import OBJECTIVES

    text = FLEET.replace("seed = 5\n", "seed = 5\nhide_faults = true\n") + OBJECTIVES + """
[[event]]
id = "break"
at = "2m"
fault = { kind = "radiator_damage", satellite = "A-01-03" }

[[event]]
id = "over"
at = "10m"
end = "training over"
"""
    app = MissionControlApp(load_mission(write_mission(text, "training.toml")), tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, MissionScreen)
        assert "PENDING  TRAIN reaches 5% within the hour" in app.screen.text
        assert "Radiator damage" not in app.screen.text
        await pilot.press("b")
        await pilot.pause()
        app.driver.toggle_pause()
        while not app.driver.paused:
            app.advance(1.0)
            await pilot.pause()
        assert isinstance(app.screen, MissionScreen), "a training mission ends on its debrief"
        assert "final score" in app.screen.text
        assert "Radiator damage on A-01-03 (timeline; still active)" in app.screen.text, "the ground truth revealed"
