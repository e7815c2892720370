"""The event log: engine events and operator notes, newest at the bottom, in a bounded ring buffer.

Engine events are kept as they arrive (with console-side ``OperatorNote``s) in a ``deque`` of the
newest ``max_entries``; nothing is formatted until its line is drawn, so a burst of thousands of events
costs one ``deque.extend`` plus a refresh. Row keys are sequence numbers (the n-th entry ever added).

While the cursor is on the last row the log follows new entries; moving up pins the view, ``end``
resumes following. ``v`` cycles a minimum-severity filter over the whole buffer; ``V`` hides the routine
INFO events (passes, eclipses, ground and laser links coming and going, heaters, jobs submitted, started,
checkpointed and completed), which on a big fleet outnumber everything else a thousand to one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.reactive import reactive

from console.widgets.line_table import Column, LineTable, Row
from engine import Event, EventKind, Severity, format_clock

MAX_ENTRIES = 10_000
ENTRIES_PER_SATELLITE = 20
"""A big fleet logs hundreds of events a step (a 10,080-satellite fleet about 470 at 30 s steps: passes,
eclipses, job starts and ends): the log keeps this many entries per satellite when that is more than
MAX_ENTRIES, so it still holds about 3.5 hours of mission time there (a few hundred bytes an entry: ~50 MB)."""


def log_capacity(satellites: int) -> int:
    """Entries the event log keeps for a fleet of `satellites`."""
    return max(MAX_ENTRIES, ENTRIES_PER_SATELLITE * int(satellites))
SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
SEVERITY_LABELS = {Severity.INFO: "INFO", Severity.WARNING: "WARN", Severity.CRITICAL: "CRIT"}
FILTER_CYCLE = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)
FILTER_NAMES = {Severity.INFO: "all", Severity.WARNING: "warning+", Severity.CRITICAL: "critical"}
OPERATOR = "operator"
ROUTINE_KINDS = frozenset({
    EventKind.ECLIPSE_ENTRY, EventKind.ECLIPSE_EXIT, EventKind.AOS, EventKind.LOS,
    EventKind.GROUND_LINK_UP, EventKind.GROUND_LINK_DOWN,
    EventKind.LINK_ACQUIRING, EventKind.LINK_UP, EventKind.LINK_DEGRADED, EventKind.LINK_DOWN,
    EventKind.HEATER_ON, EventKind.HEATER_OFF,
    EventKind.JOB_SUBMITTED, EventKind.JOB_STARTED, EventKind.JOB_CHECKPOINTED, EventKind.JOB_COMPLETED,
})
"""Event kinds that come and go with the orbit and normal scheduling: ``V`` hides them at INFO severity."""


@dataclass(frozen=True)
class OperatorNote:
    """An operator action that is not an engine command (pause, speed change...), logged console-side."""

    time_s: float
    message: str
    severity: Severity = Severity.INFO


LogEntry = Event | OperatorNote
"""What the buffer holds: engine events as they arrived, and operator notes."""


def entry_source(entry: LogEntry) -> str:
    """The source column: "operator" for notes and operator commands, else satellite, station or "—"."""
    if isinstance(entry, OperatorNote) or entry.kind is EventKind.OPERATOR_COMMAND:
        return OPERATOR
    return entry.satellite or entry.station or "—"


class EventLog(LineTable):
    """Engine events and operator notes, oldest at the top; follows the newest while at the bottom."""

    COLUMNS = (
        Column("time UTC", 14),
        Column("sev", 4),
        Column("source", 10),
        Column("message", 20, flexible=True),
    )

    COMPONENT_CLASSES = {
        "event-log--warning",
        "event-log--critical",
        "event-log--operator",
    }

    DEFAULT_CSS = """
    EventLog > .event-log--warning { color: $warning; }
    EventLog > .event-log--critical { color: $error; text-style: bold; }
    EventLog > .event-log--operator { color: $accent; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "cycle_filter", "Severity filter", show=True),
        Binding("V", "toggle_routine", "Routine events", show=False),
    ]

    min_severity: reactive[Severity] = reactive(Severity.INFO)
    """Entries below this severity are hidden (the whole buffer is filtered)."""
    hide_routine: reactive[bool] = reactive(False)
    """Routine INFO events (``ROUTINE_KINDS``) are hidden too."""

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: deque[LogEntry] = deque(maxlen=max_entries)
        self._appended = 0
        """Entries ever appended: the next entry's sequence number."""
        self._view: deque[int] | None = None
        """Sequence numbers of the entries the filter lets through (None: no filter, every entry)."""
        self._epoch: datetime | None = None

    def on_mount(self) -> None:
        self._show_filter()

    # ------------------------------------------------------------------------------------------ data

    @property
    def entry_count(self) -> int:
        """Entries in the buffer, whatever the filter."""
        return len(self._entries)

    @property
    def max_entries(self) -> int:
        return self._entries.maxlen or 0

    @property
    def following(self) -> bool:
        """True while the cursor is on the last row, so new entries keep the view at the bottom."""
        return self._cursor_index >= self.row_count - 1

    def set_epoch(self, epoch: datetime) -> None:
        """The mission epoch (UTC) that entry times are counted from; naive datetimes are taken as UTC."""
        self._epoch = epoch.replace(tzinfo=timezone.utc) if epoch.tzinfo is None else epoch.astimezone(timezone.utc)
        self.refresh()

    def add_events(self, events: Iterable[Event]) -> None:
        """Append engine events (oldest first), dropping the oldest entries beyond the cap."""
        self._append(list(events))

    def add_note(self, time_s: float, text: str, severity: Severity = Severity.INFO) -> None:
        """Log an operator action that is not an engine command (pause, speed change...)."""
        self._append([OperatorNote(time_s, text, severity)])

    def entries(self) -> list[LogEntry]:
        """Every entry in the buffer, oldest first, whatever the filter."""
        return list(self._entries)

    def visible_rows(self) -> list[Row]:
        """The rows the filter lets through, formatted, oldest first (O(n): for tests and export)."""
        return [self.row_at(index) for index in range(self.row_count)]

    @property
    def _first_seq(self) -> int:
        """Sequence number (row key) of the oldest entry still in the buffer."""
        return self._appended - len(self._entries)

    def _append(self, batch: list[LogEntry]) -> None:
        if not batch:
            return
        following = self.following
        before = self._cursor_index
        first = self._appended
        self._appended += len(batch)
        self._entries.extend(batch)
        if self._view is not None:
            shown = self._shown
            start = max(len(batch) - self.max_entries, 0)
            self._view.extend(first + i for i in range(start, len(batch)) if shown(batch[i]))
            oldest = self._first_seq
            while self._view and self._view[0] < oldest:
                self._view.popleft()
            if self.hide_routine:
                self._show_filter()  # its count of entries not shown
        self._place_cursor(following, before)

    def _place_cursor(self, following: bool, before: int) -> None:
        """After a change: follow the tail, or keep the cursor row where it was on screen."""
        top = int(self.scroll_offset.y)
        self.rows_changed(scroll_to_cursor=False)
        if following:
            self.move_cursor(self.row_count - 1)
        elif shift := before - self._cursor_index:
            self.scroll_to(y=max(top - shift, 0), animate=False, immediate=True, force=True)

    # --------------------------------------------------------------------------- LineTable storage
    # Row keys are sequence numbers: the n-th entry ever appended has key n.

    @property
    def row_count(self) -> int:
        return len(self._entries) if self._view is None else len(self._view)

    def key_at(self, index: int) -> Hashable:
        return self._first_seq + index if self._view is None else self._view[index]

    def row_at(self, index: int) -> Row:
        seq = self.key_at(index)
        assert isinstance(seq, int)
        return self._format(seq, self._entries[seq - self._first_seq])

    def index_of_key(self, key: Hashable) -> int | None:
        """Index of the entry with this sequence number, or of the next one shown after it."""
        count = self.row_count
        if not isinstance(key, int) or not count:
            return None
        index = key - self._first_seq if self._view is None else bisect_left(self._view, key)
        return max(0, min(index, count - 1))

    # ----------------------------------------------------------------------------------- formatting

    def format_time(self, time_s: float) -> str:
        """``MM-DD HH:MM:SS`` UTC of epoch + time_s, or mission elapsed time before an epoch is set."""
        if self._epoch is None:
            return format_clock(time_s)
        return (self._epoch + timedelta(seconds=time_s)).strftime("%m-%d %H:%M:%S")

    def _format(self, seq: int, entry: LogEntry) -> Row:
        source = entry_source(entry)
        if source == OPERATOR:
            style = "event-log--operator"
        elif entry.severity is Severity.CRITICAL:
            style = "event-log--critical"
        elif entry.severity is Severity.WARNING:
            style = "event-log--warning"
        else:
            style = None
        cells = (self.format_time(entry.time_s), SEVERITY_LABELS[entry.severity], source, entry.message)
        return Row(seq, cells, style)

    # -------------------------------------------------------------------------------------- filter

    def action_cycle_filter(self) -> None:
        """All → warning and above → critical only → all."""
        self.min_severity = FILTER_CYCLE[(FILTER_CYCLE.index(self.min_severity) + 1) % len(FILTER_CYCLE)]

    def action_toggle_routine(self) -> None:
        """Hide or show the routine INFO events (passes, eclipses, links, heaters, job starts and ends)."""
        self.hide_routine = not self.hide_routine

    def _shown(self, entry: LogEntry) -> bool:
        """Whether the filter lets `entry` through."""
        if SEVERITY_RANK[entry.severity] < SEVERITY_RANK[self.min_severity]:
            return False
        return not (self.hide_routine and isinstance(entry, Event) and entry.severity is Severity.INFO
                    and entry.kind in ROUTINE_KINDS)

    def watch_min_severity(self, severity: Severity) -> None:
        self._refilter()

    def watch_hide_routine(self, hide: bool) -> None:
        self._refilter()

    def _refilter(self) -> None:
        following = self.following
        if self.min_severity is Severity.INFO and not self.hide_routine:
            self._view = None
        else:
            shown, first = self._shown, self._first_seq
            self._view = deque(first + i for i, entry in enumerate(self._entries) if shown(entry))
        self.rows_changed()
        if following:
            self.move_cursor(self.row_count - 1)
        self._show_filter()

    def _show_filter(self) -> None:
        hidden = f" · routine hidden ({self.entry_count - self.row_count:,} entries not shown)" if self.hide_routine else ""
        self.border_subtitle = f"filter: {FILTER_NAMES[self.min_severity]}{hidden}"

