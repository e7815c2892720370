"""Telemetry limits and alarms: yellow and red limits per quantity, raised, escalated and cleared with a
deadband, acknowledged and shelved by the operator, with a complete history.

Limits are checked every step on whole-fleet arrays; only transitions touch Python objects. An alarm
belongs to one (satellite, quantity) pair while it is active; when the value returns inside its limits
by the deadband the alarm clears and stays in the history. Escalating from yellow to red needs a new
acknowledgement. Shelving hides an alarm from the operator's list for a while without losing it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.mission.models import Limit, Limits

NORMAL, YELLOW, RED = 0, 1, 2
QUANTITY_UNITS = {
    "battery_soc": "",
    "gpu_temp_c": "°C",
    "radiator_temp_c": "°C",
    "loop_temp_c": "°C",
    "unserved_power_w": "W",
    "array_output_fraction": "",
    "battery_capacity_fraction": "",
    "coolant_flow_fraction": "",
}
LEVEL_NAMES = ("normal", "yellow", "red")


@dataclass(frozen=True)
class Alarm:
    """One alarm, as it stands now (a frozen copy: the engine keeps the live record)."""

    id: int
    satellite: str
    quantity: str
    unit: str
    severity: str
    """'yellow' or 'red': the current severity (the worst one while active)."""
    raised_s: float
    value: float
    """The quantity's value at the last transition (raise, escalation, clear)."""
    limit: float
    """The limit that was crossed."""
    side: str = "high"
    """Which side that limit guards: 'high' (value above it is bad) or 'low'."""
    acknowledged: bool = False
    acknowledged_s: float | None = None
    shelved_until_s: float | None = None
    shelve_reason: str = ""
    cleared_s: float | None = None
    peak_severity: str = "yellow"

    @property
    def active(self) -> bool:
        return self.cleared_s is None

    def shelved_at(self, time_s: float) -> bool:
        return self.shelved_until_s is not None and time_s < self.shelved_until_s


@dataclass(frozen=True)
class AlarmTransition:
    """What changed for one alarm in a step: 'raised', 'escalated', 'downgraded', 'cleared' or 'unshelved'."""

    change: str
    alarm: Alarm


class AlarmBoard:
    """Levels for every (quantity, satellite) and the alarm records behind them."""

    def __init__(self, limits: Limits, satellite_ids: tuple[str, ...]):
        self.satellite_ids = satellite_ids
        self.limits: dict[str, Limit] = {name: getattr(limits, name) for name in Limits.model_fields}
        n = len(satellite_ids)
        self.levels = {name: np.zeros(n, dtype=np.int8) for name in self.limits}
        self._active: dict[tuple[str, int], int] = {}
        self._alarms: list[Alarm] = []

    # ------------------------------------------------------------------------------------------- queries

    def all(self) -> list[Alarm]:
        """Every alarm ever raised, oldest first."""
        return list(self._alarms)

    def active(self) -> list[Alarm]:
        """Alarms not yet cleared, oldest first."""
        return [self._alarms[index] for index in sorted(self._active.values())]

    def get(self, alarm_id: int) -> Alarm:
        if not 0 <= alarm_id < len(self._alarms):
            raise KeyError(alarm_id)
        return self._alarms[alarm_id]

    def counts(self, time_s: float) -> dict[str, int]:
        """Active alarms by severity, not counting shelved ones, plus unacknowledged and shelved totals."""
        counts = {"red": 0, "yellow": 0, "unacknowledged": 0, "shelved": 0}
        for alarm in self.active():
            if alarm.shelved_at(time_s):
                counts["shelved"] += 1
                continue
            counts[alarm.severity] += 1
            counts["unacknowledged"] += not alarm.acknowledged
        return counts

    # ------------------------------------------------------------------------------------------ evaluation

    def evaluate(self, time_s: float, values: dict[str, np.ndarray]) -> list[AlarmTransition]:
        """Compare every quantity with its limits and update alarms; returns the transitions."""
        transitions: list[AlarmTransition] = []
        for name, limit in self.limits.items():
            if not limit.enabled:
                continue
            value = values[name]
            current = self.levels[name]
            if not current.any() and _all_inside(value, limit):
                continue  # nothing raised and every value inside both limits: nothing can change
            new = _level_with_deadband(value, current, limit)
            if not np.array_equal(new, current):
                for index in np.nonzero(new != current)[0]:
                    transition = self._transition(name, int(index), int(current[index]), int(new[index]), float(value[index]), time_s)
                    if transition is not None:
                        transitions.append(transition)
                self.levels[name] = new
        for key, alarm_id in list(self._active.items()):
            alarm = self._alarms[alarm_id]
            if alarm.shelved_until_s is not None and time_s >= alarm.shelved_until_s:
                self._alarms[alarm_id] = replace(alarm, shelved_until_s=None, shelve_reason="")
                transitions.append(AlarmTransition("unshelved", self._alarms[alarm_id]))
        return transitions

    def _transition(self, name: str, index: int, old: int, new: int, value: float, time_s: float) -> AlarmTransition | None:
        limit = self.limits[name]
        key = (name, index)
        crossed, side = _crossed_limit(limit, value, new if new else old)
        if old == NORMAL:
            alarm = Alarm(
                id=len(self._alarms), satellite=self.satellite_ids[index], quantity=name, unit=QUANTITY_UNITS[name],
                severity=LEVEL_NAMES[new], raised_s=time_s, value=value, limit=crossed, side=side, peak_severity=LEVEL_NAMES[new],
            )
            self._alarms.append(alarm)
            self._active[key] = alarm.id
            return AlarmTransition("raised", alarm)
        alarm_id = self._active[key]
        alarm = self._alarms[alarm_id]
        if new == NORMAL:
            alarm = replace(alarm, cleared_s=time_s, value=value, shelved_until_s=None)
            del self._active[key]
            change = "cleared"
        elif new > old:
            alarm = replace(alarm, severity=LEVEL_NAMES[new], peak_severity=LEVEL_NAMES[new], value=value, limit=crossed,
                            side=side, acknowledged=False, acknowledged_s=None)
            change = "escalated"
        else:
            alarm = replace(alarm, severity=LEVEL_NAMES[new], value=value, limit=crossed, side=side)
            change = "downgraded"
        self._alarms[alarm_id] = alarm
        return AlarmTransition(change, alarm)

    # ------------------------------------------------------------------------------------ operator actions

    def acknowledge(self, alarm_id: int, time_s: float) -> Alarm:
        """Mark an active alarm acknowledged; raises ValueError with the reason when it cannot be."""
        alarm = self._require_active(alarm_id)
        if alarm.acknowledged:
            raise ValueError(f"alarm {alarm_id} is already acknowledged")
        self._alarms[alarm_id] = replace(alarm, acknowledged=True, acknowledged_s=time_s)
        return self._alarms[alarm_id]

    def shelve(self, alarm_id: int, until_s: float, reason: str) -> Alarm:
        alarm = self._require_active(alarm_id)
        self._alarms[alarm_id] = replace(alarm, shelved_until_s=until_s, shelve_reason=reason)
        return self._alarms[alarm_id]

    def unshelve(self, alarm_id: int) -> Alarm:
        alarm = self._require_active(alarm_id)
        if alarm.shelved_until_s is None:
            raise ValueError(f"alarm {alarm_id} is not shelved")
        self._alarms[alarm_id] = replace(alarm, shelved_until_s=None, shelve_reason="")
        return self._alarms[alarm_id]

    def _require_active(self, alarm_id: int) -> Alarm:
        if not isinstance(alarm_id, int) or not 0 <= alarm_id < len(self._alarms):
            raise ValueError(f"no alarm with id {alarm_id!r}")
        alarm = self._alarms[alarm_id]
        if not alarm.active:
            raise ValueError(f"alarm {alarm_id} has already cleared")
        return alarm


def _all_inside(value: np.ndarray, limit: Limit) -> bool:
    """Every value at or inside the tightest low and high limits (NaN is never inside)."""
    if value.size == 0:
        return True
    lows = [v for v in (limit.yellow_low, limit.red_low) if v is not None]
    highs = [v for v in (limit.yellow_high, limit.red_high) if v is not None]
    if lows and not value.min() >= max(lows):
        return False
    return not highs or bool(value.max() <= min(highs))


def _level_with_deadband(value: np.ndarray, current: np.ndarray, limit: Limit) -> np.ndarray:
    """Worsen at a limit; recover only once inside it by the deadband (like the shedding policy)."""
    worse = np.zeros(value.shape, dtype=np.int8)
    release = np.zeros(value.shape, dtype=np.int8)
    band = limit.deadband
    for threshold, level in ((limit.yellow_high, YELLOW), (limit.red_high, RED)):
        if threshold is not None:
            worse = np.maximum(worse, np.where(value > threshold, level, 0).astype(np.int8))
            release = np.maximum(release, np.where(value > threshold - band, level, 0).astype(np.int8))
    for threshold, level in ((limit.yellow_low, YELLOW), (limit.red_low, RED)):
        if threshold is not None:
            worse = np.maximum(worse, np.where(value < threshold, level, 0).astype(np.int8))
            release = np.maximum(release, np.where(value < threshold + band, level, 0).astype(np.int8))
    return np.maximum(worse, np.minimum(current, release)).astype(np.int8)


def _crossed_limit(limit: Limit, value: float, level: int) -> tuple[float, str]:
    """The limit of the given level on the side the value is on, and that side ('high' or 'low')."""
    high = limit.red_high if level == RED else limit.yellow_high
    low = limit.red_low if level == RED else limit.yellow_low
    if high is not None and (low is None or value >= high or abs(value - high) <= abs(value - low)):
        return float(high), "high"
    return (float(low), "low") if low is not None else (float("nan"), "high")
