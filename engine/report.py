"""The JSON run report (DESIGN.md, "Interfaces users see"), built from a simulation's statistics.

Only modelled subsystems appear: ``models`` lists them, and sections for later subsystems (jobs, alarms,
objectives) are added when those models exist rather than filled with placeholder values.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np

from engine.gpu_health import GpuHealthState
from engine.simulation import Simulation

REPORT_VERSION = 1
MODELS = ("orbit", "sunlight", "ground_contacts", "power", "thermal", "gpu_throttling", "radiation", "gpu_health",
          "network", "telemetry_limits")


def _iso(sim: Simulation, time_s: float | None) -> str | None:
    if time_s is None or not math.isfinite(time_s):
        return None
    moment = sim.clock.epoch + timedelta(seconds=float(time_s))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finite(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def build_report(sim: Simulation) -> dict[str, Any]:
    """A JSON-ready dict describing the run so far."""
    stats = sim.statistics
    seconds = max(stats.sim_seconds, 1e-12)
    n = len(sim.satellite_ids)
    kwh = 1.0 / 3.6e6
    battery_delta_j = sim.battery.energy_j - stats.initial_battery_j
    gpus_total = int(sim.hw.gpu_count.sum())
    installed = float(stats.gpu_seconds_installed.sum())
    metrics = sim.workload_metrics()
    if metrics is None:  # synthetic load: GPU-seconds of work at the speed the GPUs ran
        delivered = float(stats.gpu_seconds_delivered.sum())
    else:  # jobs: useful GPU-seconds (progress kept, not lost to rollbacks or abandoned)
        delivered = metrics["gpu_hours_useful"] * 3600.0
    failed_per_satellite = (sim.health.state == GpuHealthState.FAILED).sum(axis=1)

    satellites = []
    for index, sat_id in enumerate(sim.satellite_ids):
        spec = sim.spec.satellites[index]
        satellites.append(
            {
                "id": sat_id,
                "shell": spec.shell,
                "plane": spec.plane,
                "slot": spec.slot,
                "tle": list(spec.tle),
                "gpus": int(sim.hw.gpu_count[index]),
                "sunlit_fraction": _finite(stats.sunlit_s[index] / seconds, 5),
                "eclipse_count": int(stats.eclipse_count[index]),
                "min_soc": _finite(stats.min_soc[index], 4),
                "final_soc": _finite(sim.battery.soc[index], 4),
                "max_gpu_temp_c": _finite(stats.max_gpu_temp_c[index], 2),
                "max_radiator_temp_c": _finite(stats.max_radiator_temp_c[index], 2),
                "min_radiator_temp_c": _finite(stats.min_radiator_temp_c[index], 2),
                "energy_generated_kwh": _finite(stats.generated_j[index] * kwh, 4),
                "energy_consumed_kwh": _finite(stats.consumed_j[index] * kwh, 4),
                "safe_mode_hours": _finite(stats.safe_mode_s[index] / 3600.0, 4),
                "gpu_overtemp_shutdowns": int(stats.overtemp_shutdowns[index]),
                "gpus_failed": int(failed_per_satellite[index]),
                "dose_rad": _finite(sim.health.dose_rad[index], 3),
                "orbit_error": bool(sim.orbit_error[index]),
            }
        )

    contacts = []
    for sat, station, aos, los, max_el, max_el_s, volume_gbit in sim.contacts.passes_array(include_open=True):
        contacts.append(
            {
                "station": sim.network.ids[int(station)],
                "satellite": sim.satellite_ids[int(sat)],
                "aos": _iso(sim, None if np.isnan(aos) else aos),
                "los": _iso(sim, None if np.isnan(los) else los),
                "max_elevation_deg": round(float(max_el), 3),
                "max_elevation_at": _iso(sim, max_el_s),
                "duration_s": None if np.isnan(aos) or np.isnan(los) else round(float(los - aos), 3),
                "data_volume_gb": round(float(volume_gbit) / 8.0, 3),
            }
        )

    history = sim.alarms(active_only=False)
    alarms = {
        "raised": len(history),
        "by_quantity": dict(sorted(_count(a.quantity for a in history).items())),
        "by_peak_severity": dict(sorted(_count(a.peak_severity for a in history).items())),
        "active_at_end": sum(1 for a in history if a.active),
        "unacknowledged_at_end": sum(1 for a in history if a.active and not a.acknowledged),
        "limits": {name: limit.model_dump(exclude_none=True) for name, limit in sim.alarm_board.limits.items()},
    }

    report = {
        "report_version": REPORT_VERSION,
        "mission": {"id": sim.spec.id, "title": sim.spec.title, "kind": sim.spec.kind},
        "seed": sim.seed,
        "epoch": _iso(sim, 0.0),
        "end": _iso(sim, sim.time_s),
        "sim_seconds": round(stats.sim_seconds, 6),
        "step_seconds": sim.step_s,
        "steps": stats.steps,
        "models": list(MODELS) + ([] if metrics is None else ["jobs"]),
        "fleet": {
            "satellites": n,
            "gpus": gpus_total,
            "ground_stations": sim.network.count,
            "sunlit_fraction": _finite(stats.sunlit_s.sum() / (seconds * max(n, 1)), 5),
            "energy_generated_kwh": _finite(stats.generated_j.sum() * kwh, 3),
            "energy_consumed_kwh": _finite(stats.consumed_j.sum() * kwh, 3),
            "energy_losses_kwh": _finite(stats.losses_j.sum() * kwh, 3),
            "energy_unserved_kwh": _finite(stats.unserved_j.sum() * kwh, 3),
            "battery_delta_kwh": _finite(battery_delta_j.sum() * kwh, 3),
            "min_soc": _finite(float(stats.min_soc.min()) if n else math.nan, 4),
            "max_gpu_temp_c": _finite(float(stats.max_gpu_temp_c.max()) if n else math.nan, 2),
            "max_radiator_temp_c": _finite(float(stats.max_radiator_temp_c.max()) if n else math.nan, 2),
            "gpu_hours_installed": _finite(installed / 3600.0, 3),
            "gpu_hours_delivered": _finite(delivered / 3600.0, 3),
            "gpu_delivered_fraction": _finite(delivered / installed if installed else math.nan, 5),
            "goodput": None if metrics is None or metrics["goodput"] is None else round(metrics["goodput"], 6),
            "gpus_failed": int(failed_per_satellite.sum()),
            "safe_mode_hours": _finite(stats.safe_mode_s.sum() / 3600.0, 3),
            "contacts": len(contacts),
        },
        "satellites": satellites,
        "contacts": contacts,
        "gpu_health": _gpu_health_section(sim),
        "network": _network_section(sim, contacts),
        "alarms": alarms,
        "events": dict(sorted(sim.event_counts.items())),
    }
    if metrics is not None:
        report["jobs"] = _jobs_section(sim, metrics)
    report["faults"] = _faults_section(sim)
    if sim.objectives is not None:
        score = sim.objectives.score()
        report["objectives"] = [
            {"id": r.id, "kind": r.kind, "description": r.description, "metric": r.metric, "op": r.op,
             "target": r.target, "weight": r.weight, "status": r.status,
             "decided": None if r.decided_s is None else _iso(sim, r.decided_s),
             "value": r.value if not isinstance(r.value, float) else round(r.value, 6), "credit": round(r.credit, 6)}
            for r in sim.objectives.results()
        ]
        report["score"] = {"value": score.value, "grade": score.grade, "gate_failed": score.gate_failed,
                           "hints_shown": sim.objectives.hints_shown}
    if sim.spec.hints:
        report["hints"] = [{"id": f.event_id, "shown": _iso(sim, f.time_s), "text": f.event.notify.text}
                           for f in sim.hints.fired]
    if sim.spec.steps:
        report["walkthrough"] = {
            "steps_done": sim.walkthrough.steps_done, "steps_total": len(sim.spec.steps),
            "steps": [{"id": p.id, "done": None if p.done_s is None else _iso(sim, p.done_s)} for p in sim.walkthrough.progress()],
        }
    if sim.servicing.fleet.servicers():
        report["servicing"] = _servicing_section(sim)
    return report


def _faults_section(sim: Simulation) -> dict[str, Any]:
    """Every fault injected (the ground truth, also when the mission hid them from the operator)."""
    book = sim.faults.book
    ended = {end.fault.id: end for end in book.ended}
    faults = []
    for fault in book.injected:
        end = ended.get(fault.id)
        faults.append({
            "id": fault.id, "kind": fault.kind.value, "target": fault.target, "source": fault.source,
            "params": dict(fault.params), "start": _iso(sim, fault.start_s),
            "end": _iso(sim, end.time_s) if end is not None else None,
            "ended": end.how if end is not None else None,
        })
    return {
        "injected": len(book.injected),
        "by_source": dict(sorted(_count(f.source for f in book.injected).items())),
        "by_kind": dict(sorted(_count(f.kind.value for f in book.injected).items())),
        "active_at_end": len(book.active),
        "random_draws_dropped": sim.random_faults.skipped,
        "battery_energy_lost_kwh": round(sim.faults.battery_energy_lost_j / 3.6e6, 6),
        "list": faults,
    }


def _servicing_section(sim: Simulation) -> dict[str, Any]:
    """Servicing vehicles and every mission they flew or are flying."""
    fleet = sim.servicing.fleet
    missions = []
    for m in fleet.missions():
        missions.append({
            "id": m.mission_id, "servicer": m.servicer_id, "target": sim.satellite_ids[m.target],
            "parts": [p.value for p in m.parts], "status": m.status.value,
            "phase": m.phase.name if m.phase is not None else None,
            "dispatched": _iso(sim, m.dispatched_s),
            ("finished" if m.status.value != "active" else "eta"): _iso(sim, m.eta_s),
            "delta_v_used_m_s": round(m.delta_v_used_m_s, 3), "risk": round(m.risk, 6),
            "cost_musd": round(m.cost_musd, 6), "dock_attempts": m.dock_attempts,
            "parts_installed": [p.value for p in m.parts_installed], "parts_failed": [p.value for p in m.parts_failed],
            "reason": m.reason,
        })
    servicers = [
        {"id": s.servicer_id, "launch": s.launch_mode.value, "busy": s.busy, "missions_flown": s.missions_flown,
         "delta_v_remaining_m_s": round(s.delta_v_remaining_m_s, 3),
         "spares": {part.value: count for part, count in s.spares.items()}, "cost_musd": round(s.cost_musd, 6)}
        for s in fleet.servicers()
    ]
    return {"total_cost_musd": round(fleet.total_cost_musd, 6), "servicers": servicers, "missions": missions}


def _gpu_health_section(sim: Simulation) -> dict[str, Any]:
    """Radiation and GPU faults over the run, fleet totals (ground truth, including silent corruption)."""
    health = sim.health
    present = health.present
    counts = health.state_counts().sum(axis=0)
    storms = sim.solar_particle_events.events(sim.time_s)
    return {
        "gpus_by_state": {state.name: int(counts[state]) for state in GpuHealthState},
        "correctable_errors": int(health.ce_count[present].sum()),
        "uncorrectable_errors": int(health.due_count[present].sum()),
        "retired_rows": int(health.retired_rows[present].sum()),
        "functional_interrupts": int(health.sefi_count[present].sum()),
        "latchups": int(health.latchup_count[present].sum()),
        "silent_data_corruptions": int(health.sdc_count[present].sum() - health.sdc_detected_count[present].sum()),
        "detected_data_corruptions": int(health.sdc_detected_count[present].sum()),
        "dose_rad_max": _finite(float(health.dose_rad.max()) if len(health.dose_rad) else math.nan, 3),
        "dose_rad_mean": _finite(float(health.dose_rad.mean()) if len(health.dose_rad) else math.nan, 3),
        "solar_particle_events": [{"start": _iso(sim, float(a)), "end": _iso(sim, float(b))} for a, b in storms],
    }


def _network_section(sim: Simulation, contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """Laser links, routes, handovers and how old the ground's telemetry ran (time-weighted over the run)."""
    stats = sim.statistics
    comms = sim.comms
    mean_latency = stats.route_latency_s_s / stats.routed_satellite_s if stats.routed_satellite_s else math.nan
    p95 = stats.telemetry_age_quantile_s(0.95)
    return {
        "topology": comms.topology.value,
        "telemetry": sim.spec.network.telemetry.value,
        "links": comms.links.count,
        "isl_up_fraction": _finite(stats.link_up_s / stats.link_table_s if stats.link_table_s else math.nan, 5),
        "routed_fraction": _finite(stats.routed_satellite_s / stats.satellite_s if stats.satellite_s else math.nan, 5),
        "mean_route_latency_ms": _finite(mean_latency * 1e3, 4),
        "handovers": int(comms.ground_links.handovers),
        "telemetry_age_p95_s": None if p95 is None else _finite(p95, 2),
        "downlinked_gb": round(sum(contact["data_volume_gb"] for contact in contacts), 3),
        "commands": {**sim.network_commands, "pending_at_end": len(sim.pending_commands())},
    }


def _jobs_section(sim: Simulation, metrics: dict[str, Any]) -> dict[str, Any]:
    """The workload: counts (DESIGN.md: submitted, completed, failed, preempted, goodput), GPU-hours with
    losses by cause, queue waits, energy, inference latency attainment, and each mission-listed job."""
    counts = metrics["jobs"]
    listed = {job.id for job in sim.spec.jobs}
    jobs = []
    for view in sim.job_views():
        if view.id not in listed:
            continue
        accounting = sim.workload.accounting(view.id) if sim.workload is not None else {}
        allocated = accounting.get("allocated", 0.0)
        jobs.append({
            "id": view.id,
            "state": view.state,
            "progress": round(view.progress, 6),
            "restarts": view.restarts,
            "retries": view.retries,
            "submit": _iso(sim, view.submit_s),
            "start": _iso(sim, view.start_s),
            "end": _iso(sim, view.end_s),
            "wait_s": round(view.wait_s, 3),
            "gpu_hours_allocated": round(allocated / 3600.0, 6),
            "goodput": round(accounting["useful"] / allocated, 6) if allocated > 0 else None,
            "energy_kwh": round(view.energy_j / 3.6e6, 6),
        })

    def rounded(value):
        if isinstance(value, float):
            return round(value, 6) if math.isfinite(value) else None
        if isinstance(value, dict):
            return {key: rounded(item) for key, item in value.items()}
        return value

    return {
        "submitted": counts["submitted"],
        "completed": counts["completed"],
        "failed": counts["failed"],
        "cancelled": counts["cancelled"],
        "timeout": counts["timeout"],
        "preempted": counts["preemptions"],
        "node_failures": counts["node_failures"],
        "application_failures": counts["app_failures"],
        "requeues": counts["requeues"],
        "checkpoints": counts["checkpoints"],
        "checkpoints_aborted": counts["checkpoints_aborted"],
        "running_at_end": counts["running"] + counts["checkpointing"],
        "pending_at_end": counts["pending"],
        "suspended_at_end": counts["suspended"],
        "goodput": rounded(metrics["goodput"]),
        "utilization": rounded(metrics["utilization"]),
        **{key: rounded(metrics[key]) for key in (
            "gpu_hours_allocated", "gpu_hours_useful", "gpu_hours_available", "gpu_hours_lost", "gpu_hours_at_risk",
            "queue_wait_p50_s", "queue_wait_p95_s", "queue_wait_by_partition", "energy_kwh",
            "energy_per_completed_job_kwh", "energy_per_useful_gpu_hour_kwh", "inference_finished",
            "inference_slo_attainment", "inference_results_waiting",
        )},
        "listed": jobs,
    }


def _count(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts
