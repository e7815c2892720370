"""Rich renderables for the command line: a mission's summary and a headless run's results."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from engine.constellation import sun_synchronous_inclination_deg
from engine.durations import format_duration
from engine.mission import MissionSpec


def mission_summary(spec: MissionSpec) -> Group:
    """Title, clock, shells, explicit satellites and ground stations of a mission."""
    header = Text.assemble(
        (spec.title, "bold"), "\n",
        f"id {spec.id} · {spec.kind} · epoch {spec.epoch:%Y-%m-%d %H:%M:%SZ} · ",
        f"duration {format_duration(spec.duration_s)} · step {format_duration(spec.step_s)} · seed {spec.seed}",
    )
    shells = Table(title="Shells", title_justify="left")
    for column in ("shell", "orbit", "alt km", "inc °", "planes × sats", "GPUs", "array m²", "battery kWh", "radiator m²"):
        shells.add_column(column, justify="right" if column not in ("shell", "orbit") else "left")
    hardware_by_shell = {s.shell: s.hardware for s in spec.satellites if s.shell}
    for shell in spec.shells:
        hw = hardware_by_shell.get(shell.name)
        if shell.sun_synchronous:
            orbit, inclination = f"SSO, LTAN {shell.ltan}", sun_synchronous_inclination_deg(shell.altitude_km, shell.eccentricity)
        else:
            orbit, inclination = f"Walker {shell.planes * shell.sats_per_plane}/{shell.planes}/{shell.phasing}", shell.inclination_deg
        shells.add_row(
            shell.name, orbit, f"{shell.altitude_km:g}", f"{inclination:.2f}", f"{shell.planes} × {shell.sats_per_plane}",
            str(hw.gpus) if hw else "", f"{hw.solar_array_m2:g}" if hw else "", f"{hw.battery_kwh:g}" if hw else "",
            f"{hw.radiator_m2:g}" if hw else "",
        )
    parts: list[Any] = [header, shells]
    explicit = [s for s in spec.satellites if s.shell is None]
    if explicit:
        table = Table(title=f"Explicit satellites ({len(explicit)})", title_justify="left")
        table.add_column("id")
        table.add_column("TLE line 1")
        for satellite in explicit[:10]:
            table.add_row(satellite.id, satellite.tle[0])
        parts.append(table)
    stations = Table(title=f"Ground stations ({len(spec.ground_stations)})", title_justify="left")
    for column in ("id", "name", "lat °", "lon °", "mask °"):
        stations.add_column(column, justify="right" if "°" in column else "left")
    for station in spec.ground_stations:
        stations.add_row(station.id, station.name or "", f"{station.lat_deg:.2f}", f"{station.lon_deg:.2f}", f"{station.min_elevation_deg:g}")
    parts.append(stations)
    parts.append(Text(f"{len(spec.satellites)} satellites in total."))
    return Group(*parts)


def run_summary(report: dict[str, Any], wall_s: float) -> Group:
    """Fleet figures, the satellites closest to their limits, and event counts."""
    fleet = report["fleet"]
    speed = report["sim_seconds"] / wall_s if wall_s > 0 else float("inf")
    header = Text.assemble(
        (report["mission"]["title"], "bold"), "\n",
        f"{report['mission']['id']} · seed {report['seed']} · {format_duration(report['sim_seconds'])} simulated "
        f"in {report['steps']} steps of {format_duration(report['step_seconds'])} · {wall_s:.1f} s wall ({speed:,.0f}× real time)",
    )
    figures = Table(title="Fleet", title_justify="left", show_header=False)
    figures.add_column("quantity")
    figures.add_column("value", justify="right")
    rows = [
        ("satellites / GPUs / stations", f"{fleet['satellites']} / {fleet['gpus']} / {fleet['ground_stations']}"),
        ("sunlit fraction", f"{fleet['sunlit_fraction']:.1%}"),
        ("energy generated / consumed", f"{fleet['energy_generated_kwh']:,.1f} / {fleet['energy_consumed_kwh']:,.1f} kWh"),
        ("energy losses / unserved", f"{fleet['energy_losses_kwh']:,.1f} / {fleet['energy_unserved_kwh']:,.1f} kWh"),
        ("lowest battery state of charge", f"{fleet['min_soc']:.1%}"),
        ("hottest GPU / radiator", f"{_temp(fleet['max_gpu_temp_c'])} / {_temp(fleet['max_radiator_temp_c'])}"),
        ("GPU-hours delivered / installed", f"{fleet['gpu_hours_delivered']:,.1f} / {fleet['gpu_hours_installed']:,.1f}"),
        ("safe-mode hours", f"{fleet['safe_mode_hours']:,.2f}"),
        ("ground contacts", f"{fleet['contacts']:,}"),
        ("alarms raised / active at end", f"{report['alarms']['raised']:,} / {report['alarms']['active_at_end']:,}"),
    ]
    for name, value in rows:
        figures.add_row(name, value)
    worst = Table(title="Closest to limits (lowest state of charge)", title_justify="left")
    for column in ("satellite", "min SoC", "max GPU", "max radiator", "eclipses", "sunlit"):
        worst.add_column(column, justify="left" if column == "satellite" else "right")
    for sat in sorted(report["satellites"], key=lambda s: (s["min_soc"] if s["min_soc"] is not None else 2.0))[:5]:
        worst.add_row(
            sat["id"], f"{sat['min_soc']:.1%}", _temp(sat["max_gpu_temp_c"]), _temp(sat["max_radiator_temp_c"]),
            str(sat["eclipse_count"]), f"{sat['sunlit_fraction']:.1%}",
        )
    events = Table(title="Events", title_justify="left")
    events.add_column("kind")
    events.add_column("count", justify="right")
    for kind, count in report["events"].items():
        events.add_row(kind, f"{count:,}")
    return Group(header, figures, worst, events)


def _temp(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} °C"
