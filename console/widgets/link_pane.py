"""Link pane: the sub-satellite point, the current ground contact and the next passes with AOS/LOS countdowns and maximum elevation."""

from __future__ import annotations

from textual.content import Content

from console import formatting as fmt
from console.detail import SatelliteView
from console.widgets.detail_pane import LABEL_WIDTH, DetailPane, label

VALUE_WIDTH = 18
MAX_PASSES = 5


class LinkPane(DetailPane):
    """Where the satellite is over the Earth, ground contact now, elevation history, and the pass schedule."""

    TITLE = "Ground link"

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        snap, i, now = view.snapshot, view.index, view.time_s
        spare = width - LABEL_WIDTH - VALUE_WIDTH - 1
        spark = spare if spare >= 4 else 0
        station = int(snap.contact_station[i])
        elevation = float(snap.best_elevation_deg[i])
        current = [p for p in view.passes if (p.aos_s is None or p.aos_s <= now) and (p.los_s is None or p.los_s > now)]
        if station >= 0:
            station_id = snap.station_ids[station]
            in_pass = next((p for p in current if p.station == station_id), None)
            los = f" · LOS in {fmt.countdown(in_pass.los_s - now)}" if in_pass is not None and in_pass.los_s is not None else ""
            contact = Content.assemble(label("Contact"), (station_id, "$text-success bold"), f" el {elevation:.1f}°{los}")
        else:
            contact = Content.assemble(label("Contact"), ("none", "$text-muted"), f" (best el {elevation:.0f}°)")
        lat, lon = float(snap.lat_deg[i]), float(snap.lon_deg[i])
        position = f"{abs(lat):.1f}°{'N' if lat >= 0 else 'S'} {abs(lon):.1f}°{'E' if lon >= 0 else 'W'}"
        lines = [
            Content.assemble(label("Over"), f"{position} · {float(snap.alt_km[i]):.0f} km"),
            contact,
            Content.assemble(label("Elev"), f"{'best station':<{VALUE_WIDTH}} ", (self.sparkline(view.history["best_elevation_deg"], spark, -90.0, 90.0), "$text-success")),
        ]
        upcoming = [p for p in view.passes if p.aos_s is not None and p.aos_s > now][:MAX_PASSES]
        if not upcoming:
            lines.append(Content.assemble(("no pass in the prediction window", "$text-muted")))
            return lines
        lines.append(Content.assemble((f"{'AOS in':<8}{'length':<7}{'max el':>6} station", "$text-muted bold")))
        for p in upcoming:
            length = fmt.countdown(p.los_s - p.aos_s) if p.los_s is not None else "—"
            lines.append(
                Content.assemble(
                    (f"{fmt.countdown(p.aos_s - now):<8}", "$text-accent"),
                    f"{length:<7}{p.max_elevation_deg:>5.0f}° {p.station}",
                )
            )
        return lines
