"""GPU pane: health counts, radiation, operator cap and drain, then one compact cell per GPU.

Each cell reads ``idx state °C W ce/ue job`` under a header row; cells flow side by side as the width
allows (one per line in a 37-column pane, two in a 65-column one). Redrawn every frame, so it only formats
strings from one satellite's row of the snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content

from console.detail import SatelliteView
from console.widgets.detail_pane import DetailPane, label
from engine.gpu_health import GpuHealthState

__all__ = ["GpuPane", "compact_count", "flow", "format_dose"]

Part = tuple[str, str]
"""One styled run of text: (text, style)."""

RADIATION_HIGH = 5.0
"""Local single-event rate (relative to the orbit average) above which the satellite is in the SAA or a storm."""

CELL_GAP = "│"
STATE_WIDTH = 4
TEMP_WIDTH = 4
POWER_WIDTH = 5
ECC_WIDTH = 6
JOB_WIDTH = 6
CELL_WIDTH = 2 + 1 + STATE_WIDTH + TEMP_WIDTH + POWER_WIDTH + 1 + ECC_WIDTH + 1 + JOB_WIDTH
"""30 cells: two fit side by side in a 65-column pane (61 content columns)."""

_OK, _DEGRADED, _RESETTING, _FAILED, _OFF = (int(state) for state in GpuHealthState)


def compact_count(count: int, width: int = 4) -> str:
    """A count in at most `width` characters when possible: '950', '1200', '1.2k', '12k', '3.4M'."""
    candidates = [str(count)]
    if count >= 1000:
        candidates += [f"{count / 1e3:.1f}k", f"{count // 1000}k"]
    if count >= 1_000_000:
        candidates += [f"{count / 1e6:.1f}M", f"{count // 1_000_000}M"]
    return next((text for text in candidates if len(text) <= width), candidates[-1])


def format_dose(dose_rad: float) -> str:
    """Total ionising dose: '3.2 mrad', '12.4 rad', '1.30 krad'."""
    if not math.isfinite(dose_rad):
        return "—"
    if dose_rad < 1.0:
        return f"{dose_rad * 1e3:.1f} mrad"
    if dose_rad < 1000.0:
        return f"{dose_rad:.1f} rad"
    return f"{dose_rad / 1e3:.2f} krad"


def flow(head: Sequence[Part], parts: Sequence[Sequence[Part]], width: int, separator: str = " · ") -> list[Content]:
    """`head` then the `parts` joined by `separator`, wrapped to `width`; continuation lines are indented
    under the first part. A part is never split."""
    indent = sum(cell_len(text) for text, _ in head)
    lines: list[Content] = []
    current: list[Part] = list(head)
    used = indent
    first_on_line = True
    for part in parts:
        length = sum(cell_len(text) for text, _ in part)
        if not first_on_line and used + len(separator) + length > width:
            lines.append(Content.assemble(*current))
            current, used, first_on_line = [(" " * indent, "")], indent, True
        if not first_on_line:
            current.append((separator, "$text-muted"))
            used += len(separator)
        current.extend(part)
        used += length
        first_on_line = False
    lines.append(Content.assemble(*current))
    return lines


class GpuPane(DetailPane):
    """GPU health and radiation of the selected satellite, with a cell per GPU."""

    TITLE = "GPUs"

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        snap, i = view.snapshot, view.index
        present = snap.gpu_present[i].tolist()
        gpus = [g for g, here in enumerate(present) if here]
        health = snap.gpu_health[i].tolist()
        lines = self._summary(gpus, health, snap.gpu_shutdown[i].tolist(), width)
        lines += self._radiation(view, width)
        lines += self._operator(view, width)
        if not gpus:
            lines.append(Content.assemble(("no GPUs installed", "$text-muted")))
            return lines
        per_line = max(1, (width + len(CELL_GAP)) // (CELL_WIDTH + len(CELL_GAP)))
        cell_width = (width - len(CELL_GAP) * (per_line - 1)) // per_line
        job_width = JOB_WIDTH + max(0, cell_width - CELL_WIDTH)
        cells = self._cells(view, gpus, health, job_width)
        header = (
            f"{'#':>2} {'st':<{STATE_WIDTH}}{'°C':>{TEMP_WIDTH}}{'W':>{POWER_WIDTH}} {'ce/ue':>{ECC_WIDTH}} {'job':<{job_width}}"
        )
        header_parts: list[Part] = [(header, "$text-muted bold")]
        for start in range(0, len(cells), per_line):
            row = cells[start : start + per_line]
            if start == 0:
                lines.append(_join([header_parts] * len(row)))
            lines.append(_join(row))
        return lines

    # ------------------------------------------------------------------------------------- sections

    @staticmethod
    def _summary(gpus: list[int], health: list[int], shutdown: list[bool], width: int) -> list[Content]:
        counts = [0] * len(GpuHealthState)
        for g in gpus:
            counts[health[g]] += 1
        hot = sum(1 for g in gpus if shutdown[g])

        def count(n: int, word: str, style: str) -> list[Part]:
            return [(f"{n} {word}", style if n else "$text-muted")]

        parts = [
            count(counts[_OK], "ok", "$text-success"),
            count(counts[_DEGRADED], "degraded", "$text-warning"),
            count(counts[_RESETTING], "resetting", "$text-warning"),
            count(counts[_FAILED], "failed", "$text-error bold"),
        ]
        if counts[_OFF]:
            parts.append(count(counts[_OFF], "off", "$text-muted"))
        if hot:
            parts.append(count(hot, "hot", "$text-error bold"))
        head: list[Part] = [(f"{len(gpus)} GPUs: ", "bold")]
        return flow(head, parts, width)

    @staticmethod
    def _radiation(view: SatelliteView, width: int) -> list[Content]:
        snap, i = view.snapshot, view.index
        multiplier = float(snap.radiation_multiplier[i])
        rate: list[Part] = [(f"upsets ×{multiplier:.1f}", "")]
        if multiplier > RADIATION_HIGH:
            rate = [(f"upsets ×{multiplier:.1f}", "$text-warning bold"), (" SAA/storm", "$text-warning")]
        parts: list[list[Part]] = [[(format_dose(float(snap.dose_rad[i])), "")], rate]
        if snap.solar_particle_event:
            parts.append([("SOLAR STORM", "$text-error bold")])
        return flow([label("Dose")], parts, width)

    @staticmethod
    def _operator(view: SatelliteView, width: int) -> list[Content]:
        snap, i = view.snapshot, view.index
        cap_w = float(snap.gpu_power_cap_w[i])
        parts: list[list[Part]] = []
        if math.isfinite(cap_w):
            parts.append([(f"cap {cap_w:.0f} W per GPU", "$text-warning")])
        if bool(snap.drained[i]):
            parts.append([("DRAINED", "$text-warning bold"), (" no new work", "$text-warning")])
        return flow([label("Operator")], parts, width) if parts else []

    @staticmethod
    def _cells(view: SatelliteView, gpus: list[int], health: list[int], job_width: int) -> list[list[Part]]:
        snap, i = view.snapshot, view.index
        temps = snap.gpu_temp_c[i].tolist()
        powers = snap.gpu_power_w[i].tolist()
        powered = snap.gpu_powered[i].tolist()
        throttled = snap.gpu_throttled[i].tolist()
        shutdown = snap.gpu_shutdown[i].tolist()
        speed = snap.gpu_speed[i].tolist()
        corrected = snap.gpu_ecc_corrected[i].tolist()
        uncorrected = snap.gpu_ecc_uncorrected[i].tolist()
        jobs = snap.gpu_job[i].tolist()
        cells = []
        for g in gpus:
            state, state_style = _state(health[g], shutdown[g], powered[g], throttled[g], speed[g])
            temp_style = "$text-error" if shutdown[g] else ("$text-warning" if throttled[g] else "")
            ue = compact_count(int(uncorrected[g]), 3)
            ce = compact_count(int(corrected[g]), max(ECC_WIDTH - 1 - len(ue), 2))
            ecc_style = "$text-error" if uncorrected[g] else ("" if corrected[g] else "$text-muted")
            job = jobs[g]
            if job >= 0:
                job_text, job_style = _fit(snap.job_ids[job], job_width), "$text-accent"
            else:
                usable = health[g] in (_OK, _DEGRADED)
                job_text, job_style = f"{'idle' if usable else '—':<{job_width}}", "$text-muted"
            cells.append([
                (f"{g:>2} ", "$text-muted"),
                (f"{state:<{STATE_WIDTH}}", state_style),
                (_number(temps[g], TEMP_WIDTH), temp_style),
                (_number(powers[g], POWER_WIDTH), ""),
                (" ", ""),
                (f"{ce + '/' + ue:>{ECC_WIDTH}}", ecc_style),
                (" ", ""),
                (job_text, job_style),
            ])
        return cells


def _state(health: int, shutdown: bool, powered: bool, throttled: bool, speed: float) -> Part:
    """The cell's run state: failures and over-temperature first, then resets, off, throttling, health."""
    if health == _FAILED:
        return "FAIL", "$text-error bold"
    if shutdown:
        return "HOT", "$text-error bold"
    if health == _RESETTING:
        return "RST", "$text-warning"
    if health == _OFF:
        return "OFF", "$text-muted"
    if not powered:
        return "off", "$text-muted"
    if throttled:
        return f"{min(speed, 0.99):.0%}", "$text-warning"
    if health == _DEGRADED:
        return "DEG", "$text-warning"
    return "OK", "$text-success"


def _number(value: float, width: int) -> str:
    """A rounded value right-aligned in `width` (with a leading space when it fits), '—' when missing."""
    if not math.isfinite(value):
        return f"{'—':>{width}}"
    text = f"{value:.0f}" if abs(value) < 10_000 else f"{value / 1e3:.0f}k"
    return f"{text:>{width}}"


def _fit(text: str, width: int) -> str:
    """`text` padded or cut (with an ellipsis) to `width` characters."""
    return text[: width - 1] + "…" if len(text) > width else f"{text:<{width}}"


def _join(cells: Sequence[Sequence[Part]]) -> Content:
    parts: list[Part] = []
    for index, cell in enumerate(cells):
        if index:
            parts.append((CELL_GAP, "$text-muted"))
        parts.extend(cell)
    return Content.assemble(*parts)
