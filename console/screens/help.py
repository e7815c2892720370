"""Help: every key of the console, grouped by where it works, read from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "space": "space",
    "full_stop": ".",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "slash": "/",
    "question_mark": "?",
    "escape": "esc",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "up": "↑",
    "down": "↓",
    "delete": "del",
}

BUILTIN_KEYS = (
    ("ctrl+p", "Command palette: every action by name"),
    ("ctrl+q", "Quit"),
    ("tab / shift+tab", "Move focus between panes"),
)


def key_text(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    return " / ".join(KEY_NAMES.get(key, key) for key in binding.key.split(","))


def binding_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(keys, description)]) for the app and every pane with keys."""
    from console.app import MissionControlApp
    from console.screens.fault_list import FaultListScreen
    from console.screens.servicing import ServicingScreen
    from console.widgets.alarm_table import AlarmTable
    from console.widgets.event_log import EventLog
    from console.widgets.fleet_table import FleetTable
    from console.widgets.job_table import JobTable

    def rows(bindings) -> list[tuple[str, str]]:
        result = []
        for binding in bindings:
            binding = binding if isinstance(binding, Binding) else Binding(*binding)
            result.append((key_text(binding), binding.description))
        return result

    def app_rows(*prefixes: str) -> list[tuple[str, str]]:
        return rows(b for b in MissionControlApp.BINDINGS if isinstance(b, Binding) and (b.id or "").startswith(prefixes))

    groups = [
        ("Time control", app_rows("sim-", "seek-")),
        ("Jobs, GPUs and links (the selected satellite)", app_rows("job-", "sat-", "gpu-", "net-")),
        ("Fault injection (instructor)", app_rows("fault-")),
        ("Servicing", app_rows("servicing")),
        ("Views and search", app_rows("fleet-", "view-", "mission-", "help")),
        ("Fleet table", rows(FleetTable.BINDINGS)),
        ("Alarms pane", rows(AlarmTable.BINDINGS)),
        ("Event log", rows(EventLog.BINDINGS)),
        ("Job queue (j)", rows(JobTable.BINDINGS) + [("esc / j", "Close the job queue")]),
        ("Active faults (f)", rows(FaultListScreen.BINDINGS)),
        ("Servicing (S)", rows(ServicingScreen.BINDINGS)),
        ("Anywhere", list(BUILTIN_KEYS)),
    ]
    return [(title, entries) for title, entries in groups if entries]


class HelpScreen(ModalScreen[None]):
    """A scrollable list of every key; escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        parts: list[Content] = []
        for title, entries in binding_groups():
            parts.append(Content.assemble((title, "$text-accent bold")))
            for keys, description in entries:
                parts.append(Content.assemble((f"  {keys:<16}", "$text-warning bold"), description))
            parts.append(Content(""))
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc closes"
            yield Static(Content("\n").join(parts), id="help-text")
