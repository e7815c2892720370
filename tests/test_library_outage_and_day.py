"""Two bundled missions run headless end to end, judged from engine state:

- training-outage-spe: the reference play (the autopilot) passes with gold, a no-op operator fails, and the
  premise holds: Svalbard really is off the air, the whole ring really loses its route to the ground, and
  the storm really multiplies GPU hangs (against a twin run without the storm and the outage);
- day-in-the-life: the demo reaches its end after one day with every autopilot step played, the hung GPU
  power-cycled back into service long before its hang would have ended, the terminal fault and the
  handover handled, jobs checkpointed and completed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Simulation, load_mission
from engine.commands import CancelJob, CommandError, InjectFault
from engine.fault_catalogue import FaultKind
from engine.faults import FaultRequest
from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState
from engine.runner import run_headless

MISSIONS = Path(__file__).resolve().parent.parent / "missions"
OUTAGE = "training-outage-spe"
DAY = "day-in-the-life"


def _play(spec, sample=None) -> Simulation:
    """A headless run of `spec` (the autopilot plays), calling ``sample(sim)`` after every step."""
    return run_headless(spec, on_progress=sample, progress_every_steps=1)


class _Trace:
    """Per-step samples: the time, whether Svalbard is on the air, how many satellites have no route."""

    def __init__(self):
        self.t_h: list[float] = []
        self.svalbard_up: list[bool] = []
        self.without_route: list[int] = []

    def __call__(self, sim: Simulation) -> None:
        snap = sim.snapshot()
        self.t_h.append(sim.time_s / 3600)
        self.svalbard_up.append(bool(snap.station_up[snap.station_ids.index("svalbard")]))
        self.without_route.append(int(np.count_nonzero(snap.route_hops < 0)))

    def arrays(self):
        return np.array(self.t_h), np.array(self.svalbard_up), np.array(self.without_route)


def _train(sim: Simulation):
    return next(view for view in sim.job_views() if view.id == "TRAIN")


@pytest.fixture(scope="module")
def reference_play():
    trace = _Trace()
    sim = _play(load_mission(OUTAGE), trace)
    return sim, trace


def test_the_reference_play_of_the_outage_mission_passes_with_gold(reference_play):
    sim, _ = reference_play
    spec = sim.spec
    assert [f.event_id for f in sim.autopilot.fired] == [
        "close-ring-a", "close-ring-b", "park-train", "cycle-07-off", "cycle-07-on", "cycle-09-off",
        "cycle-09-on", "release-train"]
    assert len(sim.autopilot.fired) == len(spec.autopilot)
    assert not any("refused" in what for _, _, what in sim.command_log), sim.command_log
    results = {r.id: r for r in sim.objectives.results()}
    assert {r.status for r in results.values()} == {"met"}, results
    assert not sim.hints.fired, "the reference play needs no hint"
    score = sim.objectives.score()
    assert score.grade == "gold" and score.value == pytest.approx(1.0) and not score.gate_failed
    # what the play did, in engine state
    train = _train(sim)
    assert train.state in ("RUNNING", "CHECKPOINTING", "COMPLETED") and train.progress >= 0.7
    assert train.restarts == 1, "parked once for the storm, never killed by it"
    assert sim.workload_metrics()["inference_slo_attainment"] >= 0.92
    for sat_id in ("D-01-04", "D-01-10"):
        peer = f"D-01-{int(sat_id[-2:]) + 1:02d}"
        row = sim.comms.links.index_of(sim.satellite_ids.index(sat_id), sim.satellite_ids.index(peer))
        assert LinkState(int(sim.comms.links.state[row])) != LinkState.DISABLED
    hung = [(sim.satellite_ids.index("D-01-07"), 2), (sim.satellite_ids.index("D-01-09"), 5)]
    assert all(GpuHealthState(int(sim.health.state[s, g])) == GpuHealthState.OK for s, g in hung)
    assert not sim.faults.book.active, "both hangs ended by their power cycles"
    assert sorted(e.how for e in sim.faults.book.ended if e.fault.kind.value == "gpu_hang") == ["power cycled", "power cycled"]
    # D-01-09's power-off was sent while the ring had no route: it waited in the queue until contact
    assert sim.network_commands == {"queued": 1, "delivered": 1, "refused_on_delivery": 0}
    assert any("power off D-01-09 GPU 5: queued until contact" in what for _, _, what in sim.command_log)
    delivered = [who for _, who, what in sim.command_log if "delivered after" in what]
    assert len(delivered) == 1 and delivered[0].startswith("autopilot step"), "credited to its sender, not the operator"


def test_a_no_op_operator_fails_the_outage_mission():
    spec = load_mission(OUTAGE)
    sim = Simulation(spec)
    sim.take_over()
    sim.run_until(spec.duration_s)
    sim.finish_objectives()
    score = sim.objectives.score()
    assert score.grade == "fail" and score.gate_failed and score.value == 0.0
    results = {r.id: r for r in sim.objectives.results()}
    gate = results["train-survives"]
    assert gate.status == "failed" and 3 * 3600 < gate.decided_s < 9 * 3600, "the storm kills TRAIN"
    train = _train(sim)
    assert train.state == "FAILED" and train.restarts == 5
    assert results["ring-closed"].status == "missed" and results["hung-gpus-back"].status == "missed"
    assert results["inference-on-target"].status == "missed" and results["inference-on-target"].value < 0.85
    assert {h.event_id for h in sim.hints.fired} >= {"parked-links", "storm-and-train"}


def _twin_without_the_storm_and_the_outage(tmp_path: Path) -> Path:
    text = (MISSIONS / f"{OUTAGE}.toml").read_text(encoding="utf-8")
    storm = '[[radiation.solar_particle_event]]\nstart = "3h"'
    outage = 'fault = { kind = "station_outage", station = "svalbard", duration = "6h30m" }'
    assert storm in text and outage in text
    text = text.replace(storm, '[[radiation.solar_particle_event]]\nstart = "11d"')  # after the mission
    text = text.replace(outage, 'notify = { text = "no outage in this twin" }')
    path = tmp_path / "twin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_premise_holds_station_down_routes_lost_and_upsets_from_the_storm(reference_play, tmp_path):
    sim, trace = reference_play
    t, up, without = trace.arrays()
    assert up[t <= 2].all() and up[t > 8.5 + 1e-6].all()
    assert not up[(t > 2 + 1e-6) & (t <= 8.5)].any(), "Svalbard is off the air from T+2h to T+8h30m"
    assert (without[t <= 0.1] == 6).all(), "split in two arcs by the parked links, one arc has no route"
    assert (without[(t > 0.2) & (t < 2)] == 0).all(), "the ring closed again routes through Svalbard"
    lost_all = (without == len(sim.satellite_ids)) & (t > 2) & (t <= 8.5)
    assert lost_all.sum() * sim.step_s >= 3600, "Troll alone leaves the ring with no route for over an hour"
    # the storm: the radiation model's own SPE, at x300
    assert sim.health.radiation.spe_multiplier == 300
    assert sim.event_counts.get("solar_particle_event_start") == 1
    twin_trace = _Trace()
    twin = _play(load_mission(_twin_without_the_storm_and_the_outage(tmp_path)), twin_trace)
    _, twin_up, twin_without = twin_trace.arrays()
    assert twin_up.all() and not (twin_without == len(sim.satellite_ids)).any()
    storm_hangs, calm_hangs = int(sim.health.sefi_count.sum()), int(twin.health.sefi_count.sum())
    # 96 GPUs x 0.01 SEFI/GPU/day x 300 x 6 h / 24 h = 72 expected in the storm; about 0.5 in 12 calm hours
    assert 45 <= storm_hangs <= 100 and calm_hangs <= 4
    assert float(sim.health.dose_rad.mean()) > 3 * float(twin.health.dose_rad.mean()), "the storm's dose jump"
    assert twin.workload_metrics()["inference_slo_attainment"] > sim.workload_metrics()["inference_slo_attainment"]


def test_the_outage_mission_allows_only_its_operator_commands():
    spec = load_mission(OUTAGE)
    assert "cancel_job" not in spec.mission.allowed_commands
    sim = Simulation(spec)
    sim.take_over()
    sim.step()
    with pytest.raises(CommandError, match="does not allow cancel job"):
        sim.apply(CancelJob("TRAIN"))
    with pytest.raises(CommandError, match="does not allow inject fault"):
        sim.apply(InjectFault(FaultRequest(FaultKind.GPU_HANG, "D-01-01", 0)))


# ------------------------------------------------------------------------------------ day in the life


class _DayWatch:
    """What the demo's incidents look like while it plays."""

    def __init__(self):
        self.gpu_at_6h = None
        self.hang_active_at_6h = None
        self.link_states: set[LinkState] = set()

    def __call__(self, sim: Simulation) -> None:
        if self.gpu_at_6h is None and sim.time_s >= 6 * 3600:
            self.gpu_at_6h = GpuHealthState(int(sim.health.state[sim.satellite_ids.index("A-01-05"), 3]))
            self.hang_active_at_6h = any(f.kind.value == "gpu_hang" for f in sim.faults.book.active.values())
        if 9.3 * 3600 <= sim.time_s <= 10.5 * 3600:
            ids = sim.satellite_ids
            row = sim.comms.links.index_of(ids.index("A-02-03"), ids.index("A-02-04"))
            self.link_states.add(LinkState(int(sim.comms.links.state[row])))


def test_a_day_in_the_life_plays_every_step_and_handles_its_incidents():
    spec = load_mission(DAY)
    assert len(spec.satellites) <= 48 and len(spec.ground_stations) == 8
    watch = _DayWatch()
    sim = _play(spec, watch)
    assert sim.end_reason == "a day in the life of the data center is over"
    assert sim.time_s == pytest.approx(24 * 3600, abs=sim.step_s) and sim.time_s < spec.duration_s
    fired = [f.event_id for f in sim.autopilot.fired]
    assert sorted(fired) == sorted(step.id for step in spec.autopilot), "every step played, once"
    assert fired[-1] == "done"
    assert not any("refused" in what or "queued" in what for _, _, what in sim.command_log), sim.command_log
    # the hung GPU: power-cycled by the operator and running at T+6h, while its hang ran until T+8h50m
    assert watch.gpu_at_6h == GpuHealthState.OK and not watch.hang_active_at_6h, "the power cycle cleared the hang"
    applied = [what for _, who, what in sim.command_log if who.startswith("autopilot step")]
    assert applied[:2] == ["power off A-01-05 GPU 3 (ends its hang: a power cycle clears it)", "power on A-01-05 GPU 3"]
    assert any(what.startswith("force handover of D-01-03 away from") for what in applied)
    ended = {e.fault.kind.value: e.how for e in sim.faults.book.ended}
    assert ended == {"gpu_hang": "power cycled", "isl_terminal_failure": "expired"}
    assert LinkState.FAILED in watch.link_states and LinkState.UP in watch.link_states, "dropped, then back"
    # routine life: eclipses, passes, checkpoints, jobs
    assert sim.event_counts["eclipse_entry"] > 100 and sim.event_counts["aos"] > 100
    views = {view.id: view for view in sim.job_views()}
    assert views["FT-VISION"].state == "COMPLETED"
    pretrain = views["PRETRAIN"]
    history = [tr for tr in sim.job_history() if tr.job_id == "PRETRAIN"]
    killed = next(k for k, tr in enumerate(history) if tr.to_state.value == "NODE_FAIL")
    assert history[killed].reason == "GPU 3 on A-01-05 unusable" and history[killed].time_s == pytest.approx(3 * 3600 + 50 * 60)
    restarted = next(tr for tr in history[killed:] if tr.to_state.value == "RUNNING")
    assert restarted.time_s - history[killed].time_s <= sim.step_s, "it restarts at once on other GPUs"
    assert pretrain.restarts >= 1 and pretrain.state in ("RUNNING", "CHECKPOINTING") and pretrain.progress > 0.3
    metrics = sim.workload_metrics()
    assert metrics["jobs"]["completed"] > 3000 and metrics["jobs"]["failed"] == 0
    assert metrics["jobs"]["checkpoints"] >= 24 and metrics["inference_slo_attainment"] > 0.95
    assert int(np.count_nonzero(sim.health.state == int(GpuHealthState.FAILED))) == 0
    assert not sim.alarms(active_only=False), "a quiet day: no limit crossed"


def test_without_the_autopilot_the_hung_gpu_stays_in_reset():
    sim = Simulation(load_mission(DAY))
    sim.take_over()
    sim.run_until(6 * 3600)
    i = sim.satellite_ids.index("A-01-05")
    assert GpuHealthState(int(sim.health.state[i, 3])) == GpuHealthState.RESETTING


def test_omc_validate_accepts_both_missions():
    result = subprocess.run([sys.executable, "-m", "console", "validate", str(MISSIONS / f"{OUTAGE}.toml"),
                             str(MISSIONS / f"{DAY}.toml")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 2
