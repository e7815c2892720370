"""The mission panel, full screen (``b``): the briefing, the objectives with their live status and the
score so far, a guided walkthrough's steps (done, current, ahead), the hints shown, whether the autopilot is playing, and once the mission is over, the
debrief (the faults that were injected, revealed even when the mission hid them, and every command).

The app pushes it, calls ``update`` every slow frame while it is shown, and pops it on Escape or ``b``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.durations import format_clock

__all__ = ["MissionPanel", "MissionScreen", "mission_text"]

STEP_MARKS = {"done": ("✓", "$text-success"), "current": ("▸", "bold $text-accent"), "ahead": (" ", "$text-muted")}

STATUS_STYLES = {"met": "$text-success", "missed": "$text-warning", "failed": "$text-error", "pending": "$text-muted"}


@dataclass(frozen=True)
class MissionPanel:
    """What the panel shows (gathered by the driver under its lock)."""

    title: str
    kind: str
    briefing: str
    time_s: float
    objectives: tuple
    score: object | None
    hints: tuple[tuple[float, str], ...]
    autopilot: str
    """'playing', 'taken over', 'off (...)' (left out: a trainee at the console) or '' (no autopilot)."""
    over: bool
    debrief: dict | None
    """``engine.debrief.build_debrief`` once the mission is over, else None."""
    steps: tuple = ()
    """A guided walkthrough's steps (``engine.walkthrough.StepProgress``)."""


def _t(seconds: float | None) -> str:
    return "—" if seconds is None else f"T+{format_clock(seconds)}"


def _value(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def mission_text(panel: MissionPanel) -> Content:
    """The whole panel as one block of text."""
    parts: list[tuple[str, str] | str] = [(panel.title, "bold"), (f"  {panel.kind} · {_t(panel.time_s)}", "$text-muted")]
    if panel.autopilot:
        parts += [("  · autopilot ", "$text-muted"), (panel.autopilot, "$text-accent" if panel.autopilot == "playing" else "")]
    if panel.briefing.strip():
        parts += ["\n\n", (" ".join(panel.briefing.split()), "")]
    if panel.objectives:
        parts += ["\n\n", ("Objectives", "bold $text-accent")]
        for r in panel.objectives:
            what = r.description or f"{r.metric} {r.op} {r.target}"
            when = f" at {_t(r.decided_s)}" if r.status != "pending" else ""
            parts += ["\n", (f"  {r.status.upper():<8}", STATUS_STYLES.get(r.status, "")), f" {what}",
                      (f"  ({r.kind}, now {_value(r.value)}{when})", "$text-muted")]
        if panel.score is not None:
            label = "final score" if panel.over else "score so far"
            parts += ["\n", (f"  {label} {panel.score.value:.0%} · grade {panel.score.grade}", "bold")]
    if panel.steps:
        done = sum(step.status == "done" for step in panel.steps)
        parts += ["\n\n", ("Walkthrough", "bold $text-accent"), (f"  {done} of {len(panel.steps)} steps done", "$text-muted")]
        for step in panel.steps:
            mark, style = STEP_MARKS[step.status]
            when = f"  (done at {_t(step.done_s)})" if step.status == "done" else ""
            parts += ["\n", (f"  {mark} {step.number:>2}. ", style), (step.prompt, "bold" if step.status == "current" else ""),
                      (when, "$text-muted")]
    if panel.hints:
        parts += ["\n\n", ("Hints shown", "bold $text-accent")]
        parts += [item for t, text in panel.hints for item in ("\n", (f"  {_t(t)} ", "$text-muted"), text)]
    if panel.debrief is not None:
        parts += ["\n\n", ("Debrief: what happened", "bold $text-accent")]
        for f in panel.debrief["faults"] or [{"title": "no faults were injected", "target": "", "source": "", "start_s": None,
                                              "ended": None, "end_s": None, "id": ""}]:
            if not f["id"]:
                parts += ["\n", ("  no faults were injected", "$text-muted")]
                continue
            end = f"{f['ended']} at {_t(f['end_s'])}" if f["ended"] else "still active"
            parts += ["\n", (f"  {_t(f['start_s'])} ", "$text-muted"), (f["title"], "bold"), f" on {f['target']}",
                      (f" ({f['source']}; {end})", "$text-muted")]
        parts += ["\n\n", ("Debrief: actions", "bold $text-accent")]
        actions = panel.debrief["actions"] or [{"time_s": None, "by": "", "what": "none"}]
        for a in actions:
            parts += ["\n", (f"  {_t(a['time_s'])} ", "$text-muted"), (f"{a['by']}: " if a["by"] else "", "$text-muted"), a["what"]]
    elif panel.objectives:
        parts += ["\n\n", ("The debrief (with the faults revealed) appears here when the mission ends.", "$text-muted")]
    return Content.assemble(*parts)


class MissionScreen(Screen[None]):
    """Briefing, objectives, hints, and the debrief at the end."""

    DEFAULT_CSS = """
    MissionScreen #mission-scroll {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b", "close", "Close", key_display="esc", show=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._panel: MissionPanel | None = None
        self._shown = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="mission-scroll") as scroll:
            scroll.border_title = "Mission"
            yield Static(id="mission-text")
        yield Footer()

    def on_mount(self) -> None:
        self._apply()

    def update(self, panel: MissionPanel) -> None:
        self._panel = panel
        if self.is_mounted:
            self._apply()

    @property
    def text(self) -> str:
        return self._shown

    def _apply(self) -> None:
        if self._panel is None:
            return
        content = mission_text(self._panel)
        if content.plain != self._shown:
            self._shown = content.plain
            self.query_one("#mission-text", Static).update(content)

    def action_close(self) -> None:
        self.dismiss(None)
