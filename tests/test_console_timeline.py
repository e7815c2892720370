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
