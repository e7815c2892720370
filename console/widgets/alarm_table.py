"""The alarm table: active alarms worst first (or the whole history), with keys to acknowledge and shelve.

The widget never changes an alarm itself: ``a``/``A``/``z``/``u`` post request messages that the app
turns into engine commands (``AcknowledgeAlarm``, ``ShelveAlarm``, ``UnshelveAlarm``), and the next
``update_alarms`` shows the result. Keys that do not apply to the cursor alarm ring the bell and say why.

At scale (a fleet-wide fault raises thousands of alarms, and the history only grows) a frame costs what the
screen shows: the alarms are sorted again only when the engine's list changes, the view is toggled or a
shelving period ends; otherwise only the rows on screen are formatted, to see whether a value or a
countdown on them changed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive

from console.widgets.line_table import Column, LineTable, Row
from engine import format_clock
from engine.alarms import QUANTITY_UNITS, Alarm

QUANTITY_NAMES = {
    "battery_soc": "battery SoC",
    "gpu_temp_c": "GPU temp",
    "radiator_temp_c": "radiator temp",
    "loop_temp_c": "loop temp",
    "unserved_power_w": "unserved power",
    "array_output_fraction": "array output",
    "battery_capacity_fraction": "battery capacity",
    "coolant_flow_fraction": "coolant flow",
}
SEVERITY_LABELS = {"yellow": "YEL", "red": "RED"}


def quantity_name(quantity: str) -> str:
    """The operator's name for an alarm quantity ("battery SoC", "GPU temp", ...)."""
    return QUANTITY_NAMES.get(quantity, quantity.replace("_", " "))


def format_quantity(quantity: str, value: float) -> str:
    """A value with its unit; the battery state of charge (a 0..1 fraction) as a percentage."""
    if not math.isfinite(value):
        return "—"
    unit = QUANTITY_UNITS.get(quantity, "")
    if quantity == "battery_soc":
        return f"{value:.0%}"
    if unit == "°C":
        return f"{value:.1f} °C"
    if unit == "W":
        return f"{value:.0f} W"
    return f"{value:.3g} {unit}".rstrip()


def format_value_vs_limit(alarm: Alarm, current: float | None = None) -> str:
    """E.g. ``18% lo 20%`` or ``92.1 °C hi 90.0 °C``: the value, which side the crossed limit guards
    (low or high) and the limit. The value is `current` (the quantity now) when given, else the value at
    the alarm's last transition."""
    number = alarm.value if current is None or not math.isfinite(current) else current
    value = format_quantity(alarm.quantity, number)
    if not math.isfinite(alarm.limit):
        return value
    side = "lo" if alarm.side == "low" else "hi"
    return f"{value} {side} {format_quantity(alarm.quantity, alarm.limit)}"


def format_time_left(seconds: float) -> str:
    """Shelving time left, rounded up: ``40s``, ``12m``, ``1h05m``."""
    if seconds < 60:
        return f"{max(math.ceil(seconds), 0)}s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def active_sort_key(alarm: Alarm, time_s: float) -> tuple[bool, bool, bool, float, int]:
    """Unacknowledged red, unacknowledged yellow, acknowledged red, acknowledged yellow, shelved; then oldest."""
    return (alarm.shelved_at(time_s), alarm.acknowledged, alarm.severity != "red", alarm.raised_s, alarm.id)


@dataclass(frozen=True)
class AlarmRow:
    """An alarm as displayed: its state word and style class, computed at one mission time."""

    alarm: Alarm
    state: str
    style_class: str


class AlarmTable(LineTable):
    """Active alarms, worst first; ``h`` shows the whole history, newest first."""

    COLUMNS = (
        Column("id", 4, ">"),
        Column("sev", 3),
        Column("satellite", 10),
        Column("quantity", 14),
        Column("value / limit", 20),
        Column("raised", 8),
        Column("state", 11, flexible=True),
    )

    COMPONENT_CLASSES = {
        "alarm-table--red-unack",
        "alarm-table--yellow-unack",
        "alarm-table--red",
        "alarm-table--yellow",
        "alarm-table--muted",
    }

    DEFAULT_CSS = """
    AlarmTable > .alarm-table--red-unack { background: $error; color: $text; text-style: bold; }
    AlarmTable > .alarm-table--yellow-unack { color: $warning; text-style: bold; }
    AlarmTable > .alarm-table--red { color: $error; }
    AlarmTable > .alarm-table--yellow { color: $warning; }
    AlarmTable > .alarm-table--muted { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "Acknowledge", show=True),
        Binding("A", "acknowledge_all", "Acknowledge all shown", show=True),
        Binding("z", "shelve", "Shelve", show=True),
        Binding("u", "unshelve", "Unshelve", show=True),
        Binding("h", "toggle_history", "History", show=True),
    ]

    class AcknowledgeRequested(Message):
        """The operator asked to acknowledge these alarms."""

        def __init__(self, alarm_ids: tuple[int, ...]) -> None:
            self.alarm_ids = alarm_ids
            super().__init__()

    class ShelveRequested(Message):
        """The operator asked to shelve an alarm (the app asks how long and why: ``ShelveScreen``)."""

        def __init__(self, alarm_id: int, alarm: Alarm | None = None) -> None:
            self.alarm_id = alarm_id
            self.alarm = alarm
            super().__init__()

    class UnshelveRequested(Message):
        """The operator asked to bring a shelved alarm back."""

        def __init__(self, alarm_id: int) -> None:
            self.alarm_id = alarm_id
            super().__init__()

    show_history: reactive[bool] = reactive(False)
    """False: active alarms only; True: every alarm including cleared ones, newest first."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._alarms: list[Alarm] = []
        self._current: Mapping[int, float] = {}
        self._signature: tuple | None = None
        self._order_key: tuple | None = None
        """What the display order was computed from: the alarm list (by identity), the view and the end of
        the first shelving period still running (the order and the style classes change there)."""
        self._drawn: tuple | None = None
        """The rows on screen as last formatted (cells and styles), with the scroll position."""
        self._time_s = 0.0
        self._epoch: datetime | None = None
        self._shown: list[AlarmRow] = []
        self._index: dict[Hashable, int] = {}

    # ------------------------------------------------------------------------------------------ data

    def set_epoch(self, epoch: datetime) -> None:
        """The mission epoch (UTC) for the raised column; naive datetimes are taken as UTC."""
        self._epoch = epoch.replace(tzinfo=timezone.utc) if epoch.tzinfo is None else epoch.astimezone(timezone.utc)
        self._rebuild()

    def update_alarms(self, alarms: list[Alarm], time_s: float, current_values: Mapping[int, float] | None = None) -> None:
        """Take the engine's alarms at mission time `time_s`: pass the whole history
        (``sim.alarms(active_only=False)``); the active view leaves the cleared ones out.
        `current_values` maps active alarm ids to their quantity's value now (shown instead of the
        value at the last transition)."""
        if alarms is not self._source:
            self._source = alarms
            self._alarms = list(alarms)
        self._time_s = time_s
        self._current = current_values if current_values is not None else {}
        self._rebuild()

    _source: object = None
    """The list last given (the app hands the same list until an alarm changes)."""

    @property
    def time_s(self) -> float:
        return self._time_s

    def shown_alarms(self) -> list[Alarm]:
        """The alarms in display order."""
        return [shown.alarm for shown in self._shown]

    @property
    def cursor_alarm(self) -> Alarm | None:
        index = self.cursor_index
        return self._shown[index].alarm if 0 <= index < len(self._shown) else None

    def empty_text(self) -> str:
        return "no alarms raised yet" if self.show_history else "no active alarms · h shows the history"

    def watch_show_history(self) -> None:
        self._rebuild()
        self.border_subtitle = "all alarms (h: active only)" if self.show_history else "active (h: history)"

    def _rebuild(self) -> None:
        time_s = self._time_s
        key = self._order_key
        if key is not None and key[0] is self._source and key[1:-1] == (self.show_history, self._epoch) and time_s < key[-1]:
            self._refresh_if_drawn_rows_changed()  # same rows in the same order: only values and countdowns move
            return
        if self.show_history:
            ordered = sorted(self._alarms, key=lambda alarm: (alarm.raised_s, alarm.id), reverse=True)
        else:
            ordered = sorted((a for a in self._alarms if a.active), key=lambda alarm: active_sort_key(alarm, time_s))
        ends = [a.shelved_until_s for a in ordered if a.active and a.shelved_until_s is not None and a.shelved_until_s > time_s]
        self._order_key = (self._source, self.show_history, self._epoch, min(ends, default=math.inf))
        shown_rows = [self._describe(alarm) for alarm in ordered]
        signature = (self.show_history, tuple((row.alarm, row.style_class) for row in shown_rows))
        if signature == self._signature:
            self._shown = shown_rows
            self._refresh_if_drawn_rows_changed()
            return
        self._signature = signature
        self._shown = shown_rows
        self._index = {shown.alarm.id: index for index, shown in enumerate(self._shown)}
        self._drawn = None
        self.rows_changed()

    def _refresh_if_drawn_rows_changed(self) -> None:
        """Format the rows on screen (only those) and repaint if any differs from what was drawn."""
        top = int(self.scroll_offset.y)
        rows = range(top, min(top + self.page_rows, len(self._shown)))
        drawn = (top, self.cursor_index, tuple(self.row_at(index) for index in rows))
        if drawn != self._drawn:
            self._drawn = drawn
            self.refresh()

    # Rows are formatted only when drawn (the history can grow long).

    @property
    def row_count(self) -> int:
        return len(self._shown)

    def row_at(self, index: int) -> Row:
        shown = self._shown[index]
        return self._row(self._describe(shown.alarm))  # the state (a shelving countdown) as of now

    def key_at(self, index: int) -> Hashable:
        return self._shown[index].alarm.id

    def index_of_key(self, key: Hashable) -> int | None:
        return self._index.get(key)

    def _describe(self, alarm: Alarm) -> AlarmRow:
        red = alarm.severity == "red"
        if not alarm.active:
            return AlarmRow(alarm, "CLEARED", "alarm-table--muted")
        if alarm.shelved_at(self._time_s):
            assert alarm.shelved_until_s is not None
            state = f"SHELVED {format_time_left(alarm.shelved_until_s - self._time_s)}"
            return AlarmRow(alarm, state + (f": {alarm.shelve_reason}" if alarm.shelve_reason else ""), "alarm-table--muted")
        if alarm.acknowledged:
            return AlarmRow(alarm, "ACK", "alarm-table--red" if red else "alarm-table--yellow")
        return AlarmRow(alarm, "UNACK", "alarm-table--red-unack" if red else "alarm-table--yellow-unack")

    def _row(self, shown: AlarmRow) -> Row:
        alarm = shown.alarm
        cells = (
            str(alarm.id),
            SEVERITY_LABELS.get(alarm.severity, alarm.severity.upper()[:3]),
            alarm.satellite,
            quantity_name(alarm.quantity),
            format_value_vs_limit(alarm, self._current.get(alarm.id) if alarm.active else None),
            self.format_time(alarm.raised_s),
            shown.state,
        )
        return Row(alarm.id, cells, shown.style_class)

    def format_time(self, time_s: float) -> str:
        """``HH:MM:SS`` UTC of epoch + time_s, or mission elapsed time before an epoch is set."""
        if self._epoch is None:
            return format_clock(time_s)
        return (self._epoch + timedelta(seconds=time_s)).strftime("%H:%M:%S")

    # --------------------------------------------------------------------------------------- actions

    def _refuse(self, reason: str) -> None:
        self.app.bell()
        self.notify(reason, severity="warning", timeout=3)

    def _active_cursor_alarm(self) -> Alarm | None:
        alarm = self.cursor_alarm
        if alarm is None:
            self._refuse("no alarm selected")
        elif not alarm.active:
            self._refuse(f"alarm {alarm.id} has cleared")
            return None
        return alarm

    def action_acknowledge(self) -> None:
        alarm = self._active_cursor_alarm()
        if alarm is None:
            return
        if alarm.acknowledged:
            self._refuse(f"alarm {alarm.id} is already acknowledged")
            return
        self.post_message(self.AcknowledgeRequested((alarm.id,)))

    def action_acknowledge_all(self) -> None:
        """Every unacknowledged active alarm shown, except shelved ones (shelving defers them)."""
        ids = tuple(
            shown.alarm.id for shown in self._shown
            if shown.alarm.active and not shown.alarm.acknowledged and not shown.alarm.shelved_at(self._time_s)
        )
        if not ids:
            self._refuse("no unacknowledged alarms")
            return
        self.post_message(self.AcknowledgeRequested(ids))

    def action_shelve(self) -> None:
        alarm = self._active_cursor_alarm()
        if alarm is not None:
            self.post_message(self.ShelveRequested(alarm.id, alarm))

    def action_unshelve(self) -> None:
        alarm = self._active_cursor_alarm()
        if alarm is None:
            return
        if not alarm.shelved_at(self._time_s):
            self._refuse(f"alarm {alarm.id} is not shelved")
            return
        self.post_message(self.UnshelveRequested(alarm.id))

    def action_toggle_history(self) -> None:
        self.show_history = not self.show_history
