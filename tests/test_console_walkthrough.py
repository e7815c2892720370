"""The first-shift tutorial at the console: the walkthrough bar shows the current step and the pane it
points at is outlined; pressing the keys the steps ask for advances it, other keys do not; the mission
panel lists the steps; a training mission's autopilot (its reference play) does not play at the console."""

from __future__ import annotations

from console.app import make_app
from console.widgets.step_prompt import StepPrompt


def _bar(app) -> str:
    line = app.query_one(StepPrompt).line
    return "" if line is None else f"{line.number}/{line.total} {line.prompt}"


async def test_the_first_steps_of_the_tutorial_advance_with_their_keys():
    app = make_app("first-shift", tick_hz=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert not app.driver.autopilot_active, "the trainee plays, not the reference play"
        assert _bar(app).startswith("1/32 The clock")
        assert app.query_one("#clock").has_class("-step-highlight")
        assert app.query_one(StepPrompt).display

        await pilot.press("3")  # not what step 1 asks
        await pilot.pause()
        assert _bar(app).startswith("1/32")

        for key, next_number in (("space", 2), ("plus", 3), ("minus", 4), ("space", 5), ("full_stop", 6)):
            await pilot.press(key)
            await pilot.pause()
            assert _bar(app).startswith(f"{next_number}/32"), (key, _bar(app))
        assert app.driver.paused and app.driver.sim.time_s == app.driver.sim.step_s, "stepped once, paused"

        await pilot.press("1")  # back to the fleet table, which has the keys of step 6
        await pilot.press("s")
        await pilot.pause()
        assert _bar(app).startswith("7/32 Move the cursor to T-01-03")
        assert app.query_one("#fleet-pane").has_class("-step-highlight")
        assert not app.query_one("#clock").has_class("-step-highlight")

        for _ in range(12):  # walk the cursor down to T-01-03
            if app.selected_id == "T-01-03":
                break
            await pilot.press("down")
            await pilot.pause()
        assert app.selected_id == "T-01-03"
        assert _bar(app).startswith("8/32")
        await pilot.press("2")
        await pilot.pause()
        assert _bar(app).startswith("9/32")
        assert app.query_one("#detail-pane").has_class("-step-highlight")

        await pilot.press("b")
        await pilot.pause()
        text = app.mission_screen.text
        assert "Walkthrough  8 of 32 steps done" in text
        assert "✓  1. The clock (top line) is paused." in text and "▸  9. Press r and reset one of T-01-03" in text
        assert [p.status for p in app.driver.sim.walkthrough.progress()][:9] == ["done"] * 8 + ["current"]


async def test_the_view_a_step_points_at_is_marked_on_the_view_bar_of_a_small_terminal():
    app = make_app("first-shift", tick_hz=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        from console.widgets.view_bar import ViewBar

        bar = app.query_one(ViewBar)
        assert bar.pointed is None, "step 1 points at the clock"
        for key in ("space", "plus", "minus", "space", "full_stop", "s"):
            await pilot.press(key)
        await pilot.pause()
        assert bar.pointed == "fleet" and app.narrow
