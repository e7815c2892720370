"""Power pane: array input, loads, battery, net flow, load shedding and the time to eclipse and to sunlight."""

from __future__ import annotations

from textual.content import Content

from console import formatting as fmt
from console.detail import SatelliteView
from console.widgets.detail_pane import LABEL_WIDTH, DetailPane, label

VALUE_WIDTH = 18
SHED_TEXT = ("none", "CAP (GPU power capped)", "PAUSE (GPUs paused)", "SAFE (safe mode)")
SHED_STYLE = ("$text-success", "$text-warning", "$text-warning", "$text-error")


def _spark_width(width: int) -> int:
    spare = width - LABEL_WIDTH - VALUE_WIDTH - 1
    return spare if spare >= 4 else 0


class PowerPane(DetailPane):
    """Where the power comes from and goes, with sparklines of the last hours."""

    TITLE = "Power"

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        snap, i, history = view.snapshot, view.index, view.history
        spark = _spark_width(width)
        solar, available = float(snap.solar_power_w[i]), float(snap.solar_available_w[i])
        array_value = fmt.power(solar)
        if available - solar > 1.0:
            array_value += f" of {fmt.power(available)}"
        net = float(snap.battery_net_w[i])
        soc = float(snap.battery_soc[i])
        shed = int(snap.shed_level[i])
        unserved = float(snap.unserved_power_w[i])
        direction = "in" if net > 1.0 else ("out" if net < -1.0 else ("full" if soc > 0.99 else "idle"))
        lines = [
            Content.assemble(label("Array"), f"{array_value:<{VALUE_WIDTH}} ", (self.sparkline(history["solar_power_w"], spark), "$text-warning")),
            Content.assemble(label("Loads"), f"{fmt.power(float(snap.load_power_w[i])):<{VALUE_WIDTH}} ", (self.sparkline(history["load_power_w"], spark), "$text-accent")),
            Content.assemble(
                label(""),
                (
                    f"bus {fmt.power(float(snap.bus_power_w[i]))} · GPU {fmt.power(float(snap.gpu_total_power_w[i]))}"
                    f" · htr {fmt.power(float(snap.heater_power_w[i]))}",
                    "$text-muted",
                ),
            ),
            Content.assemble(
                label("Battery"),
                (f"{soc:>4.0%}", SHED_STYLE[min(shed, 3)] if shed else ""),
                f"  {float(snap.battery_energy_kwh[i]):.1f} kWh".ljust(VALUE_WIDTH - 4) + " ",
                (self.sparkline(history["battery_soc"], spark, 0.0, 1.0), "$text-success"),
            ),
            Content.assemble(
                label("Net"),
                f"{fmt.signed_power(net) + ' ' + direction:<{VALUE_WIDTH}} ",
                (self.sparkline(history["battery_net_w"], spark), "$text-primary"),
            ),
            Content.assemble(label("Shedding"), (SHED_TEXT[min(shed, 3)], SHED_STYLE[min(shed, 3)])),
        ]
        if unserved > 0.5:
            lines.append(Content.assemble(label("Unserved"), (f"{fmt.power(unserved)} not delivered (battery at floor)", "$text-error")))
        lines.append(Content.assemble(label("Sunlight"), *self._sunlight(view)))
        return lines

    @staticmethod
    def _sunlight(view: SatelliteView) -> list[tuple[str, str] | str]:
        snap, i = view.snapshot, view.index
        illumination = float(snap.illumination[i])
        state = ("SUN", "$text-warning") if illumination >= 1.0 else (("ECLIPSE", "$text-primary") if illumination <= 0.0 else (f"PENUMBRA {illumination:.0%}", "$text-primary"))
        forecast = view.sunlight
        if forecast is None:
            return [state]
        now = view.time_s
        entry, exit_ = forecast.next_eclipse_entry_s, forecast.next_eclipse_exit_s
        parts: list[str] = []
        if bool(snap.sunlit[i]):
            if entry is not None and entry >= now:
                parts.append(f"eclipse in {fmt.countdown(entry - now)}")
                if exit_ is not None and exit_ > entry:
                    parts.append(f"for {fmt.countdown(exit_ - entry)}")
        elif exit_ is not None and exit_ >= now:
            parts.append(f"sun in {fmt.countdown(exit_ - now)}")
        if not parts:
            horizon = fmt.countdown(forecast.from_s + forecast.horizon_s - now)
            parts.append(f"no eclipse for {horizon}" if bool(snap.sunlit[i]) else f"in shadow over {horizon}")
        return [state, (" · " + " ".join(parts), "")]
