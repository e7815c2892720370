"""The walkthrough bar: a guided training mission's current step, under the clock.

``Step 3 of 12 ▸ Press 3 for the ground-track map.`` with, once its action is seen and a check is still
awaited, ``(done: waiting for …)``; ``Walkthrough complete`` at the end. Hidden on missions without steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class StepLine:
    """What the bar shows: the step's number, the count, its prompt, and whether it awaits its check."""

    number: int
    total: int
    prompt: str
    waiting_on_check: bool = False
    finished: bool = False


class StepPrompt(Widget):
    """One or two lines with the trainee's current step."""

    DEFAULT_CSS = """
    StepPrompt {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $accent-muted;
        color: $text;
        display: none;
    }
    StepPrompt.-active {
        display: block;
    }
    """

    line: reactive[StepLine | None] = reactive(None, layout=True)

    def watch_line(self, line: StepLine | None) -> None:
        self.set_class(line is not None, "-active")

    def render(self) -> Content:
        line = self.line
        if line is None:
            return Content("")
        if line.finished:
            return Content.assemble(("Walkthrough complete", "bold $text-success"),
                                    (f"  all {line.total} steps done · b shows the mission panel and your score", "$text-muted"))
        parts: list[tuple[str, str] | str] = [(f"Step {line.number} of {line.total} ▸ ", "bold $text-accent"), line.prompt]
        if line.waiting_on_check:
            parts.append(("  (done; waiting for the result)", "$text-muted"))
        return Content.assemble(*parts)
