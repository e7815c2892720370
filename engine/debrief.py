"""The debrief of a run (a training mission's above all): score and grade, each objective met or missed
with the moment it was decided, the faults that were injected (the ground truth, revealed even when the
mission hid them), what the operator (or the autopilot and the timeline) did, the hints shown and the
walkthrough steps done; as a dict and as Markdown."""

from __future__ import annotations

from typing import Any

from engine.durations import format_clock

__all__ = ["build_debrief", "debrief_markdown"]


def build_debrief(sim) -> dict[str, Any]:
    """The debrief as plain data (times in seconds since the epoch)."""
    score = sim.objectives.score() if sim.objectives is not None else None
    ended = {end.fault.id: end for end in sim.faults.book.ended}
    return {
        "mission": {"id": sim.spec.id, "title": sim.spec.title, "kind": sim.spec.kind},
        "time_s": sim.time_s,
        "end_reason": sim.end_reason,
        "score": None if score is None else {"value": score.value, "grade": score.grade, "gate_failed": score.gate_failed},
        "objectives": [] if sim.objectives is None else [
            {"id": r.id, "kind": r.kind, "description": r.description or f"{r.metric} {r.op} {r.target}",
             "status": r.status, "decided_s": r.decided_s, "value": r.value, "credit": r.credit}
            for r in sim.objectives.results()
        ],
        "faults": [
            {"id": f.id, "title": f.title, "target": f.target, "source": f.source, "start_s": f.start_s,
             "end_s": ended[f.id].time_s if f.id in ended else None, "ended": ended[f.id].how if f.id in ended else None}
            for f in sim.faults.book.injected
        ],
        "actions": [{"time_s": t, "by": who, "what": what} for t, who, what in sim.command_log],
        "hints": [{"id": f.event_id, "time_s": f.time_s, "text": f.event.notify.text} for f in sim.hints.fired],
        "steps": [{"id": p.id, "number": p.number, "prompt": p.prompt, "status": p.status, "done_s": p.done_s}
                  for p in sim.walkthrough.progress()],
    }


def debrief_markdown(sim) -> str:
    """The debrief as a Markdown document (mission times as T+hh:mm:ss)."""
    d = build_debrief(sim)

    def t(seconds) -> str:
        return "—" if seconds is None else f"T+{format_clock(seconds)}"

    lines = [f"# Debrief: {d['mission']['title']}", "", f"Mission `{d['mission']['id']}` ({d['mission']['kind']}), "
             f"ran to {t(d['time_s'])}" + (f"; it ended: {d['end_reason']}." if d["end_reason"] else "."), ""]
    if d["score"] is not None:
        gate = " (a fail gate was violated)" if d["score"]["gate_failed"] else ""
        lines += [f"**Score {d['score']['value']:.0%} · grade {d['score']['grade']}**{gate}", ""]
    if d["objectives"]:
        lines += ["## Objectives", "", "| objective | kind | result | decided | value | credit |", "|---|---|---|---|---|---|"]
        for o in d["objectives"]:
            value = "—" if o["value"] is None else (f"{o['value']:.3g}" if isinstance(o["value"], float) else str(o["value"]))
            lines.append(f"| {o['description']} | {o['kind']} | {o['status']} | {t(o['decided_s'])} | {value} | {o['credit']:.0%} |")
        lines.append("")
    lines += ["## What happened (ground truth)", ""]
    if d["faults"]:
        for f in d["faults"]:
            end = f"{f['ended']} at {t(f['end_s'])}" if f["ended"] else "still active"
            lines.append(f"- {t(f['start_s'])} **{f['title']}** on {f['target']} ({f['source']}, {f['id']}); {end}")
    else:
        lines.append("- no faults were injected")
    lines += ["", "## Actions", ""]
    lines += [f"- {t(a['time_s'])} {a['by']}: {a['what']}" for a in d["actions"]] or ["- none"]
    lines += ["", "## Hints", ""]
    lines += [f"- {t(h['time_s'])} {h['text']}" for h in d["hints"]] or ["- none shown"]
    if d["steps"]:
        done = sum(step["status"] == "done" for step in d["steps"])
        lines += ["", "## Walkthrough", "", f"{done} of {len(d['steps'])} steps done.", ""]
        lines += [f"- {step['number']}. {step['id']}: " + (f"done at {t(step['done_s'])}" if step["status"] == "done" else "not done")
                  for step in d["steps"]]
    return "\n".join(lines) + "\n"
