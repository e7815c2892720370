"""Engine events: frozen records of everything that changed state, stamped in mission time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class EventKind(str, Enum):
    ECLIPSE_ENTRY = "eclipse_entry"
    ECLIPSE_EXIT = "eclipse_exit"
    AOS = "aos"
    LOS = "los"
    BATTERY_LOW = "battery_low"
    BATTERY_RECOVERED = "battery_recovered"
    POWER_DEFICIT = "power_deficit"
    POWER_RESTORED = "power_restored"
    LOAD_SHED = "load_shed"
    LOAD_RESTORED = "load_restored"
    SAFE_MODE_ENTRY = "safe_mode_entry"
    SAFE_MODE_EXIT = "safe_mode_exit"
    GPU_THROTTLED = "gpu_throttled"
    GPU_THROTTLE_CLEARED = "gpu_throttle_cleared"
    GPU_OVERTEMP_SHUTDOWN = "gpu_overtemp_shutdown"
    GPU_RESTARTED = "gpu_restarted"
    HEATER_ON = "heater_on"
    HEATER_OFF = "heater_off"
    GPU_HEALTH = "gpu_health"
    """A GPU changed health state (OK, DEGRADED, RESETTING, FAILED, OFF); the cause is in the message."""
    GPU_ECC_UNCORRECTABLE = "gpu_ecc_uncorrectable"
    GPU_SDC_DETECTED = "gpu_sdc_detected"
    SOLAR_PARTICLE_EVENT_START = "solar_particle_event_start"
    SOLAR_PARTICLE_EVENT_END = "solar_particle_event_end"
    JOB_SUBMITTED = "job_submitted"
    JOB_STARTED = "job_started"
    JOB_CHECKPOINTED = "job_checkpointed"
    JOB_SUSPENDED = "job_suspended"
    JOB_PREEMPTED = "job_preempted"
    JOB_NODE_FAIL = "job_node_fail"
    JOB_REQUEUED = "job_requeued"
    JOB_COMPLETED = "job_completed"
    JOB_FAILED = "job_failed"
    JOB_CANCELLED = "job_cancelled"
    JOB_TIMEOUT = "job_timeout"
    LINK_ACQUIRING = "link_acquiring"
    """A laser link began pointing, acquisition and tracking (new geometry, or lost lock)."""
    LINK_UP = "link_up"
    LINK_DEGRADED = "link_degraded"
    LINK_DOWN = "link_down"
    LINK_FAILED = "link_failed"
    LINK_DISABLED = "link_disabled"
    LINK_ENABLED = "link_enabled"
    GROUND_LINK_UP = "ground_link_up"
    """A station antenna began tracking a satellite (the satellite has a ground link)."""
    GROUND_LINK_DOWN = "ground_link_down"
    STATION_OUTAGE = "station_outage"
    STATION_RESTORED = "station_restored"
    ORBIT_ERROR = "orbit_error"
    ALARM_RAISED = "alarm_raised"
    ALARM_ESCALATED = "alarm_escalated"
    ALARM_DOWNGRADED = "alarm_downgraded"
    ALARM_CLEARED = "alarm_cleared"
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"
    ALARM_SHELVED = "alarm_shelved"
    ALARM_UNSHELVED = "alarm_unshelved"
    OPERATOR_COMMAND = "operator_command"
    FAULT_INJECTED = "fault_injected"
    FAULT_ENDED = "fault_ended"
    SERVICING = "servicing"
    MAINTENANCE_BEGIN = "maintenance_begin"
    MAINTENANCE_END = "maintenance_end"
    MISSION_NOTE = "mission_note"
    MISSION_END = "mission_end"
    OBJECTIVE = "objective"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. ``time_s`` is seconds since the mission epoch (interpolated within the
    step for eclipse and pass boundaries)."""

    time_s: float
    kind: EventKind
    severity: Severity
    satellite: str | None
    message: str
    station: str | None = None
    gpu: int | None = None
    value: float | None = None
    """The quantity behind the event where there is one (state of charge, temperature in °C, level)."""
    alarm_id: int | None = None
    job: str | None = None
    peer: str | None = None
    """The other satellite of a laser-link event."""
