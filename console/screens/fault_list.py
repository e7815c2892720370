"""The instructor's list of active faults: id, kind, target, source, start and end; clear one after a
confirmation.

The screen reads the faults through ``faults()`` (the driver's active faults) when it opens, every second
while it is open and after each clear, so faults that expire or are injected by the timeline come and go.
``clear(fault_id)`` ends a fault and returns None, or the engine's reason for refusing.

On a mission that hides faults from operators (training), the list starts hidden: it says so, and shows
the faults only after ``r`` (the instructor reveals them; ``r`` hides them again). Clearing works only on
a revealed list. Escape (or ``f``, the key that opens it) closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from console.screens.confirm import ConfirmScreen
from console.screens.fault_injection import PART_NAMES, in_sentence
from engine.durations import format_clock, format_duration
from engine.faults import Fault

__all__ = ["FaultListScreen", "clear_text", "detail_text", "fault_row"]

COLUMNS = ("ID", "Fault", "Target", "Source", "Started", "Ends")
COMPACT_COLUMNS = (0, 1, 2, 5)
"""The columns shown below FULL_WIDTH (the detail line under the table gives the source and start)."""
FULL_WIDTH = 112
"""Terminal width from which every column fits beside the others."""
REFRESH_S = 1.0
SOURCES = {"operator": "injected from the console", "timeline": "from the mission timeline", "random": "a random failure (fault rates)"}


def fault_row(fault: Fault, now_s: float) -> tuple[str, ...]:
    """The table cells of one fault at mission time `now_s`."""
    if fault.end_s is None:
        ends = "permanent"
    else:
        ends = f"in {format_duration(max(fault.end_s - now_s, 0.0))}"
    return (fault.id, fault.title, fault.target, fault.source, format_clock(fault.start_s), ends)


def detail_text(fault: Fault) -> str:
    """One line on the highlighted fault: its parameters, source, start and end."""
    params = ", ".join(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}" for name, value in fault.params)
    ends = "permanent until cleared or repaired" if fault.end_s is None else f"ends at {format_clock(fault.end_s)}"
    repair = f" · repaired by a {PART_NAMES.get(fault.repair.value, fault.repair.value.replace('_', ' '))} swap" if fault.repair is not None else ""
    return f"{fault.id}: {fault.title}{f' ({params})' if params else ''} · {SOURCES.get(fault.source, fault.source)} · started {format_clock(fault.start_s)} · {ends}{repair}"


def clear_text(fault: Fault) -> str:
    """The confirmation's question for clearing `fault`."""
    how = " (the GPU reboots first)" if fault.gpu >= 0 else ""
    return (f"End fault {fault.id} now: {in_sentence(fault.title)} on {fault.target}? What it broke works "
            f"again{how}; its symptoms fade as the hardware recovers.")


class FaultListScreen(ModalScreen[None]):
    """Active faults with a clear command."""

    DEFAULT_CSS = """
    FaultListScreen {
        align: center middle;
    }
    FaultListScreen > #fault-list-dialog {
        width: 110;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        background: $panel;
        border: thick $accent;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    FaultListScreen #fault-list-status {
        width: 1fr;
        height: auto;
        margin: 1 0;
    }
    FaultListScreen #fault-list-status.-hidden {
        color: $text-warning;
    }
    FaultListScreen #fault-table {
        height: auto;
        max-height: 20;
        background: $panel;
    }
    FaultListScreen #fault-detail {
        width: 1fr;
        height: auto;
        margin-top: 1;
        color: $text-muted;
    }
    FaultListScreen #fault-list-error {
        width: 1fr;
        height: auto;
        color: $text-error;
    }
    FaultListScreen #fault-list-hint {
        width: 1fr;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c,delete", "clear_fault", "Clear fault", key_display="c", show=True),
        Binding("r", "reveal", "Reveal/hide faults", show=True),
        Binding("escape,f", "close", "Close", key_display="esc", show=True),
    ]

    def __init__(
        self,
        faults: Callable[[], Sequence[Fault]],
        now_s: Callable[[], float],
        clear: Callable[[str], str | None],
        *,
        hidden: bool = False,
        ended: Callable[[], int] = lambda: 0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.faults = faults
        self.now_s = now_s
        self.clear = clear
        self.ended = ended
        self.hidden = hidden
        self.revealed = not hidden
        self.shown: tuple[Fault, ...] = ()
        """The faults in the table, in row order (empty while hidden)."""
        self._rows: tuple[tuple[str, ...], ...] | None = None
        self._compact: bool | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="fault-list-dialog") as dialog:
            dialog.border_title = "Active faults"
            dialog.border_subtitle = "instructor"
            yield Static("", id="fault-list-status")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="fault-table")
            yield Static("", id="fault-detail")
            yield Label("", id="fault-list-error", markup=False)
            yield Label("", id="fault-list-hint", markup=False)

    def on_mount(self) -> None:
        self.reload()
        self.query_one(DataTable).focus()
        self.set_interval(REFRESH_S, self.reload)

    @property
    def status_text(self) -> str:
        return self.query_one("#fault-list-status", Static).render().plain  # type: ignore[union-attr]

    def reload(self) -> None:
        """Re-read the active faults and redraw what changed."""
        faults = tuple(self.faults())
        now_s = self.now_s()
        status = self.query_one("#fault-list-status", Static)
        status.set_class(self.hidden, "-hidden")
        table = self.query_one(DataTable)
        hint = self.query_one("#fault-list-hint", Label)
        detail = self.query_one("#fault-detail", Static)
        if not self.revealed:
            self.shown = ()
            table.display = False
            detail.display = False
            status.update(Content("This mission hides faults from operators: the event log and the main screens show only "
                                  "their symptoms. Press r to show the active faults (instructor only)."))
            hint.update("r: reveal · esc: close")
            self._rows = None
            self.call_after_refresh(self.refresh_bindings)
            return
        table.display = detail.display = bool(faults)
        compact = self.app.size.width < FULL_WIDTH
        if compact != self._compact:
            self._compact, self._rows = compact, None
            table.clear(columns=True)
            table.add_columns(*(COLUMNS[i] for i in COMPACT_COLUMNS) if compact else COLUMNS)
        ended = self.ended()
        parts = [f"{len(faults)} active fault{'s' if len(faults) != 1 else ''}" if faults else "No active faults"]
        if ended:
            parts.append(f"{ended} ended (expired, cleared or repaired)")
        text = Content(" · ".join(parts))
        if self.hidden:
            text = Content.assemble(("Hidden from operators (training mission) · ", "$text-warning"), text)
        status.update(text)
        hint.update(("c: clear the highlighted fault (asks first) · " if faults else "")
                    + ("r: hide · " if self.hidden else "") + "esc: close")
        rows = tuple(fault_row(fault, now_s) for fault in faults)
        if compact:
            rows = tuple(tuple(row[i] for i in COMPACT_COLUMNS) for row in rows)
        if rows == self._rows:
            return
        cursor = table.cursor_row
        previous = self.shown[cursor].id if self.shown and 0 <= cursor < len(self.shown) else None
        if tuple(f.id for f in faults) != tuple(f.id for f in self.shown):
            self.call_after_refresh(self.refresh_bindings)
        self._rows, self.shown = rows, faults
        table.clear()
        for fault, row in zip(faults, rows):
            table.add_row(*row, key=fault.id)
        if previous is not None and faults:
            ids = [fault.id for fault in faults]
            table.move_cursor(row=ids.index(previous) if previous in ids else min(cursor, len(ids) - 1))
        self._show_detail()

    def _show_detail(self) -> None:
        fault = self.highlighted()
        self.query_one("#fault-detail", Static).update(detail_text(fault) if fault is not None else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def on_resize(self) -> None:
        self.reload()

    def highlighted(self) -> Fault | None:
        table = self.query_one(DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal":
            return self.hidden
        if action == "clear_fault":
            return True if self.revealed and self.shown else None  # shown dimmed when there is nothing to clear
        return True

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self.reload()
        self.refresh_bindings()

    def action_clear_fault(self) -> None:
        fault = self.highlighted()
        if fault is None:
            return

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            refused = self.clear(fault.id)
            self.query_one("#fault-list-error", Label).update(f"refused: {refused}" if refused else "")
            self.reload()

        self.app.push_screen(ConfirmScreen(f"Clear fault {fault.id}", clear_text(fault), confirm_label="Clear", decline_label="Keep it"), answer)

    def action_close(self) -> None:
        self.dismiss(None)
