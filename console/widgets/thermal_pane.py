"""Thermal pane: radiator, coolant loop, array, heaters, the hottest GPU junction and how many GPUs are
throttled or off (each GPU's junction is in the GPU pane)."""

from __future__ import annotations

from textual.content import Content

from console import formatting as fmt
from console.detail import SatelliteView
from console.widgets.detail_pane import LABEL_WIDTH, DetailPane, label

VALUE_WIDTH = 18


class ThermalPane(DetailPane):
    """Temperatures with sparklines and the GPUs' thermal summary."""

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
            self._valve_line(float(snap.radiator_flow_fraction[i])),
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
        return lines

    @staticmethod
    def _valve_line(flow_fraction: float) -> Content:
        """How much of the coolant the bypass valve sends through the radiator."""
        if flow_fraction >= 0.999:
            return Content.assemble(label("Valve"), ("all flow to radiator", "$text-muted"))
        return Content.assemble(label("Valve"), (f"{flow_fraction:.0%} to radiator", "$text-accent"), (" (bypass holds loop)", "$text-muted"))
