"""Thermal pane: radiator, coolant loop, array and every GPU junction with its throttle state."""

from __future__ import annotations

import numpy as np
from textual.content import Content

from console import formatting as fmt
from console.detail import SatelliteView
from console.widgets.detail_pane import LABEL_WIDTH, DetailPane, label

VALUE_WIDTH = 18
GPU_CELL_WIDTH = 15


class ThermalPane(DetailPane):
    """Temperatures with sparklines, then one cell per GPU: junction °C and run state."""

    TITLE = "Thermal"

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        snap, i, history = view.snapshot, view.index, view.history
        spare = width - LABEL_WIDTH - VALUE_WIDTH - 1
        spark = spare if spare >= 4 else 0
        present = snap.gpu_present[i]
        temps = snap.gpu_temp_c[i][present]
        hottest = float(temps.max()) if temps.size else float("nan")
        lines = [
            Content.assemble(label("Radiator"), f"{fmt.temperature(float(snap.radiator_temp_c[i])):<{VALUE_WIDTH}} ", (self.sparkline(history["radiator_temp_c"], spark), "$text-primary")),
            Content.assemble(label("Loop"), f"{fmt.temperature(float(snap.loop_temp_c[i])):<{VALUE_WIDTH}} ", (self.sparkline(history["loop_temp_c"], spark), "$text-accent")),
            Content.assemble(label("Array"), fmt.temperature(float(snap.array_temp_c[i]))),
            Content.assemble(label("Heaters"), ("ON (loop too cold)", "$text-warning") if bool(snap.heater_on[i]) else ("off", "$text-muted")),
            Content.assemble(label("GPU max"), f"{fmt.temperature(hottest):<{VALUE_WIDTH}} ", (self.sparkline(history["hottest_gpu_c"], spark), "$text-error")),
        ]
        if not temps.size:
            lines.append(Content.assemble(("no GPUs installed", "$text-muted")))
            return lines
        throttled = int(snap.gpu_throttled[i][present].sum())
        off = int((~snap.gpu_powered[i][present]).sum())
        summary = f"{temps.size - off} on, {throttled} throttled, {off} off"
        lines.append(Content.assemble(label("GPUs"), (summary, "$text-warning" if throttled or off else "$text-muted")))
        per_line = max(1, width // GPU_CELL_WIDTH)
        cells = [self._gpu_cell(view, int(g)) for g in np.nonzero(present)[0]]
        for start in range(0, len(cells), per_line):
            lines.append(Content.assemble(*[part for cell in cells[start : start + per_line] for part in cell]))
        return lines

    @staticmethod
    def _gpu_cell(view: SatelliteView, gpu: int) -> list[tuple[str, str]]:
        snap, i = view.snapshot, view.index
        temp = float(snap.gpu_temp_c[i, gpu])
        if bool(snap.gpu_shutdown[i, gpu]):
            state, style = "HOT", "$text-error"
        elif not bool(snap.gpu_powered[i, gpu]):
            state, style = "off", "$text-muted"
        elif bool(snap.gpu_throttled[i, gpu]):
            state, style = f"{float(snap.gpu_speed[i, gpu]):.0%}", "$text-warning"
        else:
            state, style = "ok", "$text-success"
        return [(f"{gpu:>2} ", "$text-muted"), (f"{temp:5.1f}° ", ""), (f"{state:<{GPU_CELL_WIDTH - 10}}", style)]
