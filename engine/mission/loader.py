"""Read a mission file: TOML syntax, includes, validation, then the resolved :class:`MissionSpec`.

Every problem becomes a :class:`MissionIssue` naming the file, the line and the key path, and all problems
found are reported together. Nothing is half-loaded: either a complete spec comes back or MissionError.
"""

from __future__ import annotations

import difflib
import re
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.constellation import (
    OrbitElements,
    check_tle,
    raan_for_ltan_deg,
    read_tle_file,
    sun_synchronous_inclination_deg,
    tle_from_elements,
    walker_delta,
)
from engine.mission.errors import KeyPath, MissionError, MissionIssue
from engine.mission.models import ExplicitSatellite, Hardware, MissionFile, Shell
from engine.mission.spec import MissionSpec, SatelliteSpec
from engine.mission.toml_locations import key_lines, line_for

Located = dict[KeyPath, tuple[Path, int]]


def bundled_missions_dir() -> Path:
    """Folder of the missions shipped with the package."""
    return Path(str(resources.files("missions")))


def resolve_mission_path(path_or_id: str | Path) -> Path:
    """A mission file path from a path or the id of a bundled mission."""
    candidate = Path(path_or_id)
    if candidate.is_file():
        return candidate
    text = str(path_or_id)
    bundled = bundled_missions_dir()
    by_name = bundled / f"{text}.toml"
    if "/" not in text and by_name.is_file():
        return by_name
    for file in sorted(bundled.glob("*.toml")):
        try:
            header = tomllib.loads(file.read_text(encoding="utf-8")).get("mission", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(header, dict) and header.get("id") == text:
            return file
    raise MissionError(
        [MissionIssue(None, None, (), f"no mission file or bundled mission named {text!r} (`omc missions` lists them)")]
    )


def load_mission(path_or_id: str | Path) -> MissionSpec:
    """Load, validate and resolve a mission file (or bundled mission id) into a MissionSpec."""
    path = resolve_mission_path(path_or_id)
    document, located = _load_document(path, ())
    try:
        model = MissionFile.model_validate(document)
    except ValidationError as error:
        raise MissionError(_issues_from_validation(error, located, path)) from None
    spec = _build_spec(model, located, path)
    if model.sweep is not None:
        _check_sweep(_inline_tle_files(document, located, path), model, spec, located, path)
    return spec


def mission_document(path_or_id: str | Path) -> dict[str, Any]:
    """The mission as resolved, as one plain document: its includes merged in and every TLE file read into
    inline ``tle`` lines, so that :func:`load_mission_document` rebuilds the same MissionSpec without any
    other file (what an archive keeps). Validated first: a bad mission raises MissionError."""
    path = resolve_mission_path(path_or_id)
    load_mission(path)
    document, located = _load_document(path, ())
    return _inline_tle_files(document, located, path)


def _inline_tle_files(document: dict[str, Any], located: Located, path: Path) -> dict[str, Any]:
    """`document` with every ``tle_file`` satellite entry replaced by inline ``tle`` entries."""
    satellites = []
    for index, entry in enumerate(document.get("satellite", [])):
        if not isinstance(entry, dict) or "tle_file" not in entry:
            satellites.append(entry)
            continue
        anchor_file = located.get(("satellite", index, "tle_file"), (path, 0))[0]
        records = read_tle_file((anchor_file.parent / str(entry["tle_file"])).resolve().read_text(encoding="utf-8"))
        prefix = f"{entry['name']}-" if entry.get("name") else ""
        for name, line1, line2 in records:
            inline = {key: value for key, value in entry.items() if key not in ("tle_file", "name")}
            satellites.append({**inline, "name": f"{prefix}{name}", "tle": [line1, line2]})
    if satellites:
        document = {**document, "satellite": satellites}
    return document


def load_mission_document(document: dict[str, Any], source: str | Path = "<archive>") -> MissionSpec:
    """A MissionSpec from a :func:`mission_document` (for example read back from an archive); errors name
    `source` and the key path (there are no lines)."""
    path = Path(source)
    try:
        model = MissionFile.model_validate(document)
    except ValidationError as error:
        raise MissionError(_issues_from_validation(error, {}, path)) from None
    spec = _build_spec(model, {}, path)
    if model.sweep is not None:
        _check_sweep(document, model, spec, {}, path)
    return spec


def _check_sweep(document: dict[str, Any], model: MissionFile, spec: MissionSpec, located: Located, path: Path) -> None:
    """The [sweep] block against the mission: override paths and values, metrics, failures (engine.sweep)."""
    from engine.sweep import sweep_issues

    issues = sweep_issues(document, model.sweep, spec, located, path)
    if issues:
        raise MissionError(issues)


# ----------------------------------------------------------------------------------------------- reading


def _load_document(path: Path, stack: tuple[Path, ...]) -> tuple[dict[str, Any], Located]:
    """Parse one file and everything it includes, merged, with the file and line of every key."""
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(p.name for p in (*stack, resolved))
        raise MissionError([MissionIssue(path, None, ("include",), f"include cycle: {chain}")])
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MissionError([MissionIssue(path, None, (), f"cannot read file: {error.strerror or error}")]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, message = _syntax_error_position(error)
        raise MissionError([MissionIssue(path, line, (), f"TOML syntax error: {message}")]) from None
    lines = key_lines(text)
    located: Located = {key: (path, line) for key, line in lines.items()}

    includes = document.pop("include", [])
    include_line = lines.get(("include",))
    if not isinstance(includes, list) or not all(isinstance(item, str) for item in includes):
        raise MissionError([MissionIssue(path, include_line, ("include",), "must be a list of file paths")])
    located = {key: where for key, where in located.items() if key[:1] != ("include",)}

    merged: dict[str, Any] = {}
    merged_located: Located = {}
    for index, relative in enumerate(includes):
        target = (path.parent / relative).resolve()
        if not target.is_file():
            line = lines.get(("include", index), include_line)
            raise MissionError([MissionIssue(path, line, ("include", index), f"included file not found: {relative}")])
        included, included_located = _load_document(target, (*stack, resolved))
        merged, merged_located = _merge(merged, merged_located, included, included_located)
    return _merge(merged, merged_located, document, located)


def _syntax_error_position(error: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """Line number and message of a TOML syntax error (Python < 3.14 only has them in the text)."""
    text = str(error)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if match:
        return int(match.group(1)), f"{text[: match.start()]} (column {match.group(2)})"
    match = re.search(r"\s*\(at end of document\)\s*$", text)
    if match:
        return None, f"{text[: match.start()]} at the end of the file"
    return getattr(error, "lineno", None), text


def _merge(base: dict, base_located: Located, top: dict, top_located: Located) -> tuple[dict, Located]:
    """Deep-merge `top` over `base`: tables merge, arrays of tables concatenate, other values override."""
    result = dict(base)
    located = dict(base_located)

    def under(prefix: KeyPath, table: Located) -> Located:
        return {key: where for key, where in table.items() if key[: len(prefix)] == prefix}

    def walk(target: dict, source: dict, prefix: KeyPath) -> None:
        for key, value in source.items():
            path = (*prefix, key)
            existing = target.get(key)
            if isinstance(existing, dict) and isinstance(value, dict):
                merged_table = dict(existing)
                walk(merged_table, value, path)
                target[key] = merged_table
                if path in top_located and path not in located:
                    located[path] = top_located[path]
            elif _is_table_array(existing) and _is_table_array(value):
                offset = len(existing)
                target[key] = [*existing, *value]
                for sub, where in under(path, top_located).items():
                    if len(sub) > len(path) and isinstance(sub[len(path)], int):
                        located[(*path, sub[len(path)] + offset, *sub[len(path) + 1 :])] = where
            else:
                for stale in under(path, located):
                    del located[stale]
                target[key] = value
                located.update(under(path, top_located))

    walk(result, top, ())
    return result, located


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


# -------------------------------------------------------------------------------------------- validation


def _issues_from_validation(error: ValidationError, located: Located, path: Path) -> list[MissionIssue]:
    issues = []
    for detail in error.errors(include_url=False):
        key_path: KeyPath = tuple(part for part in detail["loc"] if isinstance(part, (str, int)))
        issues.append(_issue_at(located, path, key_path, _describe(detail, key_path)))
    return issues


def _issue_at(located: Located, default_file: Path, key_path: KeyPath, message: str) -> MissionIssue:
    lines = {key: where[1] for key, where in located.items()}
    line = line_for(lines, key_path)
    anchor = key_path
    while anchor and anchor not in located:
        anchor = anchor[:-1]
    file = located[anchor][0] if anchor in located else default_file
    return MissionIssue(file, line, key_path, message)


def _describe(detail: dict[str, Any], key_path: KeyPath) -> str:
    kind = detail["type"]
    message = str(detail["msg"])
    if kind == "extra_forbidden":
        known = _known_keys(key_path[:-1])
        close = difflib.get_close_matches(str(key_path[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "missing required key"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    value = detail.get("input")
    if kind not in ("model_type", "dict_type") and not isinstance(value, (dict, list)) and value is not None:
        message += f" (got {value!r})"
    return message


def _known_keys(table_path: KeyPath) -> list[str]:
    """Valid key names of the table at `table_path`, for 'did you mean' hints."""
    model: type[BaseModel] | None = MissionFile
    for part in table_path:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
    return sorted(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------------------------------------ resolve


def _build_spec(model: MissionFile, located: Located, path: Path) -> MissionSpec:
    issues: list[MissionIssue] = []
    satellites: list[SatelliteSpec] = []
    epoch = model.mission.epoch
    catalog_number = 1
    sun_ra_deg: float | None = None

    for shell_index, shell in enumerate(model.shell):
        hardware = _hardware_for(model.hardware, shell.hardware, ("shell", shell_index, "hardware"), located, path, issues)
        if hardware is None:
            continue
        if shell.sun_synchronous:
            if sun_ra_deg is None:
                sun_ra_deg = _sun_right_ascension_deg(model)
            try:
                inclination = sun_synchronous_inclination_deg(shell.altitude_km, shell.eccentricity)
            except ValueError as error:
                issues.append(_issue_at(located, path, ("shell", shell_index, "altitude_km"), str(error)))
                continue
            raan0 = raan_for_ltan_deg(sun_ra_deg, shell.ltan_hours) + shell.raan_offset_deg
        else:
            inclination = float(shell.inclination_deg)  # validated present
            raan0 = shell.raan_offset_deg
        raan, anomaly = walker_delta(shell.planes, shell.sats_per_plane, shell.phasing, raan0, shell.raan_spread_deg)
        width = max(2, len(str(max(shell.planes, shell.sats_per_plane))))
        for plane in range(shell.planes):
            for slot in range(shell.sats_per_plane):
                elements = OrbitElements(
                    altitude_km=shell.altitude_km,
                    inclination_deg=inclination,
                    raan_deg=float(raan[plane, slot]),
                    eccentricity=shell.eccentricity,
                    argument_of_perigee_deg=shell.argument_of_perigee_deg,
                    mean_anomaly_deg=float(anomaly[plane, slot]),
                    bstar=shell.bstar,
                )
                satellites.append(
                    SatelliteSpec(
                        id=f"{shell.name}-{plane + 1:0{width}d}-{slot + 1:0{width}d}",
                        tle=tle_from_elements(elements, epoch, catalog_number),
                        hardware=hardware,
                        shell=shell.name,
                        plane=plane + 1,
                        slot=slot + 1,
                    )
                )
                catalog_number += 1

    for sat_index, explicit in enumerate(model.satellite):
        satellites.extend(_explicit_satellites(model, explicit, sat_index, located, path, issues))

    seen: dict[str, int] = {}
    for index, satellite in enumerate(satellites):
        if satellite.id in seen:
            issues.append(MissionIssue(path, None, (), f"duplicate satellite id {satellite.id!r}"))
        seen[satellite.id] = index
    floors = {1.0 - s.hardware.battery_max_dod for s in satellites}
    if floors and model.power_policy.safe_below_soc <= max(floors):
        issues.append(
            _issue_at(
                located, path, ("power_policy", "safe_below_soc"),
                f"safe mode at {model.power_policy.safe_below_soc:g} could never trigger: a battery floor "
                f"(1 - battery_max_dod) is at {max(floors):g}; raise it or allow a deeper discharge",
            )
        )
    station_ids: set[str] = set()
    for index, station in enumerate(model.ground_station):
        if station.id in station_ids:
            issues.append(_issue_at(located, path, ("ground_station", index, "id"), f"duplicate station id {station.id!r}"))
        station_ids.add(station.id)
    sat_ids = {satellite.id for satellite in satellites}
    for index, link in enumerate(model.network.link):
        for end in ("a", "b"):
            if getattr(link, end) not in sat_ids:
                issues.append(_issue_at(located, path, ("network", "link", index, end), f"no satellite {getattr(link, end)!r}"))
        if link.a == link.b:
            issues.append(_issue_at(located, path, ("network", "link", index, "b"), f"a link needs two different satellites, got {link.a!r} twice"))
    for index, outage in enumerate(model.network.station_outage):
        if outage.station not in station_ids:
            issues.append(_issue_at(located, path, ("network", "station_outage", index, "station"),
                                    f"no ground station {outage.station!r} (stations: {', '.join(sorted(station_ids)) or 'none'})"))
    if (model.job or model.workload.generator) and satellites:
        issues.extend(_oversized_jobs(model, satellites, located, path))
    servicer_ids: set[str] = set()
    for index, servicer in enumerate(model.servicer):
        if servicer.id in servicer_ids:
            issues.append(_issue_at(located, path, ("servicer", index, "id"), f"duplicate servicer id {servicer.id!r}"))
        servicer_ids.add(servicer.id)
        if servicer.near is not None and servicer.near not in sat_ids:
            issues.append(_issue_at(located, path, ("servicer", index, "near"), f"no satellite {servicer.near!r}"))
    if (model.event or model.fault or model.autopilot or model.objective or model.hint or model.step) and satellites:  # timeline targets and fault rates vs the fleet
        issues.extend(_fault_issues(model, satellites, located, path))
    if issues:
        raise MissionError(issues)
    return MissionSpec(
        mission=model.mission,
        satellites=tuple(satellites),
        ground_stations=tuple(model.ground_station),
        shells=tuple(model.shell),
        workload=model.workload,
        power_policy=model.power_policy,
        limits=model.limits,
        source=path,
        jobs=tuple(model.job),
        scheduler=model.scheduler,
        radiation=model.radiation,
        gpu_health=model.gpu_health,
        network=model.network,
        events=tuple(model.event),
        fault_rates=tuple(model.fault),
        servicers=tuple(model.servicer),
        autopilot=tuple(model.autopilot),
        objectives=tuple(model.objective),
        scoring=model.scoring,
        hints=tuple(model.hint),
        steps=tuple(model.step),
    )


def _fault_issues(model: MissionFile, satellites: list[SatelliteSpec], located: Located, path: Path) -> list[MissionIssue]:
    """Timeline faults and fault rates checked against the fleet: targets, parameters and durations (a
    timeline fault on a laser link is checked for the link when it fires: links come and go)."""
    import numpy as np

    from engine.conditions import ConditionError, parse_condition, parse_metric
    from engine.fault_catalogue import CATALOGUE, Target
    from engine.faults import FaultBook, FaultRequest

    counts = np.array([s.hardware.gpus for s in satellites], dtype=int)
    present = np.arange(max(int(counts.max()), 1))[None, :] < counts[:, None]
    ids = [s.id for s in satellites]
    stations = [station.id for station in model.ground_station]
    book = FaultBook(ids, stations, present, lambda a, b: True)
    issues = []
    known = set(ids)
    entries = [("event", index, event) for index, event in enumerate(model.event)]
    entries += [("autopilot", index, step) for index, step in enumerate(model.autopilot)]
    entries += [("hint", index, hint.as_event()) for index, hint in enumerate(model.hint)]
    for table, index, event in entries:
        if event.fault is not None:
            try:
                book.resolve(event.fault.request(), 0.0, "timeline")
            except ValueError as error:
                issues.append(_issue_at(located, path, (table, index, "fault"), str(error)))
        if event.when is not None:
            try:
                expression = parse_condition(event.when)
                expression.check_ids(satellites=ids, stations=stations,
                                     jobs=None if model.workload.generator else [job.id for job in model.job])
            except ConditionError as error:
                issues.append(_issue_at(located, path, (table, index, "when"), str(error)))
        names = [((table, index, "on_satellite"), event.on_satellite)]
        if event.focus is not None:
            names.append(((table, index, "focus", "satellite"), event.focus.satellite))
        if event.press is not None:
            names.append(((table, index, "press", "satellite"), event.press.satellite))
        for key in ("satellite", "peer"):
            names.append(((table, index, "command", key), (event.command or {}).get(key)))
        for key_path, name in names:
            if name is not None and name not in known:
                issues.append(_issue_at(located, path, key_path, f"no satellite {name!r}"))
    for index, step in enumerate(model.step):
        if step.check is not None:
            try:
                expression = parse_condition(step.check)
                expression.check_ids(satellites=ids, stations=stations,
                                     jobs=None if model.workload.generator else [job.id for job in model.job])
            except ConditionError as error:
                issues.append(_issue_at(located, path, ("step", index, "check"), str(error)))
        if step.satellite is not None and step.satellite not in known:
            issues.append(_issue_at(located, path, ("step", index, "satellite"), f"no satellite {step.satellite!r}"))
    for index, objective in enumerate(model.objective):
        try:
            expression = parse_metric(objective.metric)
            expression.check_ids(satellites=ids, stations=stations,
                                 jobs=None if model.workload.generator else [job.id for job in model.job])
        except ConditionError as error:
            issues.append(_issue_at(located, path, ("objective", index, "metric"), str(error)))
    shells = {shell.name for shell in model.shell}
    for index, rate in enumerate(model.fault):
        unknown = [name for name in rate.shells if name not in shells]
        if unknown:
            issues.append(_issue_at(located, path, ("fault", index, "shells"),
                                    f"no shell {unknown[0]!r} (shells: {', '.join(sorted(shells)) or 'none'})"))
            continue
        target = CATALOGUE[rate.kind].target
        if target == Target.STATION and not stations:
            issues.append(_issue_at(located, path, ("fault", index, "kind"), "station faults need a ground station"))
            continue
        example = {Target.GPU: dict(satellite=ids[0], gpu=0), Target.SATELLITE: dict(satellite=ids[0]),
                   Target.LINK: dict(satellite=ids[0], peer=ids[-1]), Target.STATION: dict(station=stations[0] if stations else None),
                   Target.FLEET: {}}[target]
        try:
            book.resolve(FaultRequest(rate.kind, params=dict(rate.params), duration_s=rate.duration,
                                      permanent=rate.permanent, **example), 0.0, "random")
        except ValueError as error:
            if "no laser link" not in str(error):
                issues.append(_issue_at(located, path, ("fault", index), str(error)))
    return issues


def _oversized_jobs(model: MissionFile, satellites: list[SatelliteSpec], located: Located, path: Path) -> list[MissionIssue]:
    """Jobs and generators asking for more GPUs than one orbital plane has (a gang never spans planes)."""
    from engine.compute_setup import largest_plane_gpus

    largest = largest_plane_gpus(satellites)
    issues = []
    for index, job in enumerate(model.job):
        if job.gpus > largest:
            issues.append(_issue_at(located, path, ("job", index, "gpus"),
                                    f"job {job.id} needs {job.gpus} GPUs but the largest orbital plane has {largest}"))
    for index, generator in enumerate(model.workload.generator):
        wanted = max(generator.gpus) if isinstance(generator.gpus, list) else generator.gpus
        if wanted > largest:
            issues.append(_issue_at(located, path, ("workload", "generator", index, "gpus"),
                                    f"generator {generator.name} draws jobs of {wanted} GPUs but the largest orbital plane has {largest}"))
    return issues


def _hardware_for(
    base: Hardware, override: BaseModel | None, key_path: KeyPath, located: Located, path: Path, issues: list[MissionIssue]
) -> Hardware | None:
    if override is None:
        return base
    changes = override.model_dump(exclude_none=True)
    if not changes:
        return base
    try:
        return Hardware.model_validate({**base.model_dump(), **changes})
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            sub = tuple(part for part in detail["loc"] if isinstance(part, (str, int)))
            if not sub:  # a cross-key rule: point at the first overridden key the message names
                named = [key for key in changes if re.search(rf"\b{re.escape(key)}\b", str(detail["msg"]))]
                anchor = (*key_path, named[0]) if named else key_path
                issues.append(_issue_at(located, path, anchor, _describe(detail, anchor)))
                continue
            issues.append(_issue_at(located, path, (*key_path, *sub), _describe(detail, (*key_path, *sub))))
        return None


def _explicit_satellites(
    model: MissionFile,
    explicit: ExplicitSatellite,
    index: int,
    located: Located,
    path: Path,
    issues: list[MissionIssue],
) -> list[SatelliteSpec]:
    hardware = _hardware_for(model.hardware, explicit.hardware, ("satellite", index, "hardware"), located, path, issues)
    if hardware is None:
        return []
    if explicit.tle is not None:
        line1, line2 = (line.rstrip() for line in explicit.tle)
        try:
            check_tle(line1, line2)
        except ValueError as error:
            issues.append(_issue_at(located, path, ("satellite", index, "tle"), str(error)))
            return []
        return [SatelliteSpec(id=str(explicit.name), tle=(line1, line2), hardware=hardware)]
    key_path = ("satellite", index, "tle_file")
    anchor_file = located.get(key_path, (path, 0))[0]
    tle_path = (anchor_file.parent / str(explicit.tle_file)).resolve()
    try:
        records = read_tle_file(tle_path.read_text(encoding="utf-8"))
    except OSError as error:
        issues.append(_issue_at(located, path, key_path, f"cannot read {explicit.tle_file}: {error.strerror or error}"))
        return []
    except ValueError as error:
        issues.append(_issue_at(located, path, key_path, f"{tle_path.name} {error}"))
        return []
    prefix = f"{explicit.name}-" if explicit.name else ""
    return [SatelliteSpec(id=f"{prefix}{name}", tle=(l1, l2), hardware=hardware) for name, l1, l2 in records]


def _sun_right_ascension_deg(model: MissionFile) -> float:
    """Right ascension of the true Sun at the mission epoch, in TEME (DE421)."""
    import numpy as np

    from engine.ephemeris import MissionClock, SunEphemeris

    sun = SunEphemeris(MissionClock(model.mission.epoch), model.mission.step).at_times(np.array([0.0]))[0]
    return math.degrees(math.atan2(sun[1], sun[0])) % 360.0
