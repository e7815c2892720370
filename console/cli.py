"""The ``omc`` command line: open a mission, run it headless (optionally recording an archive), run a campaign of
many runs (``sweep``, in console.sweep_cli), validate mission files, list missions, export an archive."""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.durations import format_clock, format_duration, parse_duration
from engine.mission import MissionError, bundled_missions_dir, load_mission
from engine.mission.models import MissionSection

SUBCOMMANDS = ("run", "validate", "missions", "show", "replay", "export", "sweep")
DEFAULT_MISSION = "sandbox"


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omc",
        description="Orbital Mission Control: run a constellation of orbital data-center satellites.",
        epilog="With no command, `omc [MISSION]` opens MISSION (default: the bundled sandbox).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a mission headless and write a JSON report")
    run.add_argument("mission", help="mission file path or bundled mission id")
    run.add_argument("--until", type=_duration, help="stop at this mission time (default: the mission duration)")
    run.add_argument("--step", type=_duration, help="engine step (default: the mission step)")
    run.add_argument("--seed", type=int, help="random seed (default: the mission seed)")
    run.add_argument("--report", type=Path, help="write the JSON report to this file")
    run.add_argument("--debrief", type=Path, help="write the debrief (score, objectives, faults, actions, hints) as Markdown")
    run.add_argument("--no-autopilot", action="store_true",
                     help="leave the mission's autopilot out: a training mission scores a no-op operator")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    run.add_argument("--archive", type=Path, metavar="PATH",
                     help="record the run into a new archive file (telemetry, events, commands; never overwritten)")
    run.add_argument("--telemetry-period", type=_duration, metavar="D",
                     help="with --archive: sample the telemetry every D of mission time (default: 1m)")
    run.add_argument("--sweep-run", type=int, metavar="K",
                     help="run K of the mission's campaign (omc sweep) exactly: its overrides and seed (--seed: the campaign seed)")

    validate = commands.add_parser("validate", help="check mission files; exit 1 on any error")
    validate.add_argument("missions", nargs="+", help="mission file paths or bundled mission ids")

    commands.add_parser("missions", help="list the bundled mission library")

    export = commands.add_parser(
        "export", help="write a run archive's telemetry, events and commands as CSV or JSON lines, or its report",
        description="CSV: a directory with telemetry.csv, events.csv, commands.csv and export.json. JSON lines: one "
                    "file ('-' for stdout), one record a line with a 'type' (meta, telemetry, event, command) in "
                    "step order. --report re-simulates the run and writes its JSON report.")
    export.add_argument("archive", type=Path, help="archive file (from omc run --archive or the console)")
    export.add_argument("--format", choices=("csv", "jsonl"), help="export format (needs --out)")
    export.add_argument("--out", help="CSV: output directory; JSON lines: output file, or - for stdout")
    export.add_argument("--params", nargs="+", metavar="PARAM", help="telemetry parameters to export (default: all recorded)")
    export.add_argument("--from", dest="from_s", type=_duration, metavar="T", help="from this mission time (e.g. 90s, 2h, 01:30:00)")
    export.add_argument("--to", dest="to_s", type=_duration, metavar="T", help="up to this mission time (inclusive)")
    export.add_argument("--branch", type=int, default=1, help="branch to export (default: 1, the run as recorded)")
    export.add_argument("--report", type=Path, metavar="FILE", help="regenerate the run's JSON report into FILE")

    show = commands.add_parser("show", help="print a mission's summary (fleet, hardware, stations) without running it")
    show.add_argument("mission", help="mission file path or bundled mission id")

    replay = commands.add_parser("replay", help="open a recorded run in the console, or check it (--verify)")
    replay.add_argument("archive", type=Path, help="an archive written by the console or omc run --archive")
    replay.add_argument("--verify", action="store_true",
                        help="re-simulate headless and compare with the recording; exit 1 at the first difference")
    replay.add_argument("--branch", type=int, default=1, help="which branch of the archive (default: 1, the run)")

    from console.sweep_cli import add_sweep_parser

    add_sweep_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``omc`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in SUBCOMMANDS and arguments[0] not in ("-h", "--help")):
        opener = argparse.ArgumentParser(prog="omc", description="Open a mission in the live console.")
        opener.add_argument("mission", nargs="?", default=DEFAULT_MISSION, help="mission file path or bundled mission id (default: sandbox)")
        opener.add_argument("--seed", type=int, help="random seed (default: the mission seed)")
        opener.add_argument("--record", type=Path, metavar="ARCHIVE",
                            help="record the session into this archive (default: a new file in the per-user data directory)")
        opener.add_argument("--no-record", action="store_true", help="do not record the session")
        opener.add_argument("--sweep-run", type=int, metavar="K",
                            help="open run K of the mission's campaign (omc sweep; --seed is then the campaign seed)")
        opened = opener.parse_args(arguments)
        if opened.sweep_run is not None:
            from console.sweep_cli import open_sweep_run

            return open_sweep_run(opened)
        return open_mission(opened.mission, seed=opened.seed, record=None if opened.no_record else (opened.record or True))
    options = build_parser().parse_args(arguments)
    if options.command == "run":
        return run_command(options)
    if options.command == "validate":
        return validate_command(options.missions)
    if options.command == "show":
        return show_command(options.mission)
    if options.command == "export":
        return export_command(options)
    if options.command == "replay":
        return replay_command(options)
    if options.command == "sweep":
        from console.sweep_cli import sweep_command

        return sweep_command(options)
    return missions_command()


def _print_mission_error(console: Console, error: MissionError) -> None:
    for issue in error.issues:
        console.print(f"[bold red]error[/] {issue}", markup=True, highlight=False, soft_wrap=True)


def default_archive_path(mission_id: str) -> Path:
    """A new archive file in the per-user data directory ($XDG_DATA_HOME/omc/archives, or
    ~/.local/share/omc/archives): mission id and UTC start time."""
    import os
    from datetime import datetime, timezone

    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "omc" / "archives"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = base / f"{mission_id}-{stamp}.omc"
    counter = 1
    while path.exists():
        counter += 1
        path = base / f"{mission_id}-{stamp}-{counter}.omc"
    return path


def open_mission(mission: str, seed: int | None = None, record: Path | bool | None = True, spec=None) -> int:
    """Open a mission in the live console, recording the session (``record``: a path, True for a new file
    in the per-user data directory, None not to record); `spec`, if given, is the mission already loaded."""
    err = Console(stderr=True)
    try:
        spec = load_mission(mission) if spec is None else spec
    except MissionError as error:
        _print_mission_error(err, error)
        return 1
    from console.app import MissionControlApp
    from engine.archive import ArchiveError

    path = default_archive_path(spec.id) if record is True else record
    try:
        app = MissionControlApp(spec, seed=seed, record_to=path)
    except ArchiveError as error:
        err.print(f"[bold red]error[/] {error}", highlight=False)
        return 1
    app.run()
    if path is not None:
        Console().print(f"session recorded to {path} (omc replay {path})", highlight=False, soft_wrap=True)
    return 0


def replay_command(options: argparse.Namespace) -> int:
    """``omc replay``: open a recorded run in the console, or check it headless (``--verify``)."""
    from engine.archive import ArchiveError, ArchiveReader
    from engine.replay import verify_archive

    err = Console(stderr=True)
    try:
        if options.verify:
            with ArchiveReader(options.archive) as reader:
                result = verify_archive(reader, branch=options.branch)
            if result.ok:
                Console().print(f"ok {options.archive}: {result.steps} steps re-simulated, {result.samples_checked} samples "
                                f"and {result.events_checked} events identical to the recording", highlight=False,
                                soft_wrap=True)
                return 0
            m = result.mismatch
            err.print(f"[bold red]mismatch[/] {options.archive}: the re-run differs from the recording at {m.describe()}",
                      highlight=False, soft_wrap=True)
            return 1
        from console.app import make_replay_app

        app = make_replay_app(options.archive, branch=options.branch)
    except (ArchiveError, MissionError) as error:
        err.print(f"[bold red]error[/] {error}", highlight=False, soft_wrap=True)
        return 1
    app.run()
    return 0


def show_command(mission: str) -> int:
    """``omc show``: the mission summary."""
    try:
        spec = load_mission(mission)
    except MissionError as error:
        _print_mission_error(Console(stderr=True), error)
        return 1
    from console.summary import mission_summary

    Console().print(mission_summary(spec))
    return 0


def run_command(options: argparse.Namespace) -> int:
    """``omc run``: step the mission headless, show progress and a summary, write the report (and record an
    archive with --archive)."""
    from engine.report import build_report

    err = Console(stderr=True)
    sweep_run = None  # run K of a campaign: a mission file kept in a temporary directory while it runs
    try:
        if options.sweep_run is not None:
            from console.sweep_cli import sweep_run_mission
            from engine.sweep import SweepError

            if options.step is not None or options.until is not None:
                err.print("[bold red]error[/] --sweep-run runs run K as the campaign ran it: no --step or --until")
                return 2
            try:
                sweep_run = sweep_run_mission(options.mission, options.sweep_run, options.seed, err)
            except SweepError as error:
                err.print(f"[bold red]error[/] {error}", highlight=False, soft_wrap=True)
                return 1
            spec, options.seed = sweep_run.spec, sweep_run.seed
        else:
            spec = load_mission(options.mission)
    except MissionError as error:
        _print_mission_error(err, error)
        return 1
    end_s = options.until if options.until is not None else spec.duration_s
    if end_s <= 0:
        err.print("[bold red]error[/] --until must be longer than zero")
        return 2
    if options.step is not None and not 0.1 <= options.step <= 3600:
        err.print("[bold red]error[/] --step must be between 0.1s and 1h")
        return 2

    archive = None
    if options.telemetry_period is not None and options.archive is None:
        err.print("[bold red]error[/] --telemetry-period needs --archive")
        return 2
    if options.archive is not None:
        from engine.archive import record_settings

        if options.archive.exists():
            err.print(f"[bold red]error[/] {options.archive}: already exists (an archive is never overwritten; "
                      "choose a new path)", highlight=False, soft_wrap=True)
            return 2
        if options.step is not None and options.step != spec.step_s:
            err.print("[bold red]error[/] --step cannot be combined with --archive (a recorded run keeps the "
                      f"mission step, {format_duration(spec.step_s)}, so that it can be re-simulated)", highlight=False, soft_wrap=True)
            return 2
        try:
            archive = (options.archive, record_settings(period_s=options.telemetry_period))
        except ValueError as error:
            err.print(f"[bold red]error[/] --telemetry-period: {error}", highlight=False, soft_wrap=True)
            return 2

    from engine.archive import ArchiveError

    started = time.perf_counter()
    try:
        sim = _run(options, spec, end_s, archive, err)
    except ArchiveError as error:
        err.print(f"[bold red]error[/] {error}", highlight=False, soft_wrap=True)
        return 1
    wall_s = time.perf_counter() - started

    report = build_report(sim)
    if options.report is not None:
        options.report.parent.mkdir(parents=True, exist_ok=True)
        options.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if options.debrief is not None:
        from engine.debrief import debrief_markdown

        options.debrief.parent.mkdir(parents=True, exist_ok=True)
        options.debrief.write_text(debrief_markdown(sim), encoding="utf-8")
    if not options.quiet:
        from console.summary import run_summary

        Console().print(run_summary(report, wall_s))
        if options.report is not None:
            err.print(f"report written to {options.report}", highlight=False)
        if options.debrief is not None:
            err.print(f"debrief written to {options.debrief}", highlight=False)
        if options.archive is not None:
            err.print(f"archive written to {options.archive}", highlight=False)
    return 0


def _run(options: argparse.Namespace, spec, end_s: float, archive, err: Console):
    """run_headless with or without the progress bar."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from engine.runner import run_headless

    if options.quiet:
        return run_headless(spec, until_s=end_s, step_s=options.step, seed=options.seed, autopilot=not options.no_autopilot,
                            archive=archive)
    else:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[clock]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task(spec.id, total=end_s, clock=format_clock(0))

            def on_progress(sim) -> None:
                progress.update(task, completed=sim.time_s, clock=f"T+{format_clock(sim.time_s)}")

            return run_headless(spec, until_s=end_s, step_s=options.step, seed=options.seed, on_progress=on_progress,
                                autopilot=not options.no_autopilot, archive=archive)


def export_command(options: argparse.Namespace) -> int:
    """``omc export``: an archive's telemetry, events and commands as CSV or JSON lines, and/or its report."""
    from engine.archive import ArchiveError, ArchiveReader
    from engine.archive_export import ExportError, export_csv, export_jsonl, report_from_archive
    from engine.mission import MissionError

    err = Console(stderr=True)
    if options.format is None and options.report is None:
        err.print("[bold red]error[/] say what to export: --format csv|jsonl --out PATH, and/or --report FILE")
        return 2
    if options.format is not None and not options.out:
        err.print(f"[bold red]error[/] --format {options.format} needs --out "
                  f"({'a directory' if options.format == 'csv' else 'a file, or - for stdout'})", highlight=False)
        return 2
    if options.out and options.format is None:
        err.print("[bold red]error[/] --out needs --format csv or jsonl")
        return 2
    if options.format == "csv" and options.out == "-":
        err.print("[bold red]error[/] CSV goes into a directory (three files); use --format jsonl for stdout")
        return 2
    try:
        with ArchiveReader(options.archive) as reader:
            if options.format is not None:
                export = export_csv if options.format == "csv" else export_jsonl
                summary = export(reader, options.out, options.params, options.from_s, options.to_s, options.branch)
                if options.out != "-":
                    err.print(f"exported {summary.telemetry_rows:,} telemetry rows ({summary.sample_times:,} sample times, "
                              f"{len(summary.parameters)} parameters), {summary.events:,} events and {summary.commands:,} "
                              f"commands to {options.out}", highlight=False, soft_wrap=True)
            if options.report is not None:
                report = report_from_archive(reader, options.branch)
                options.report.parent.mkdir(parents=True, exist_ok=True)
                options.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
                err.print(f"report written to {options.report}", highlight=False)
    except ExportError as error:
        err.print(f"[bold red]error[/] {error}", highlight=False, soft_wrap=True)
        return 2
    except ArchiveError as error:
        err.print(f"[bold red]error[/] {error}", highlight=False, soft_wrap=True)
        return 1
    except MissionError as error:  # the recorded mission no longer validates (a newer engine)
        _print_mission_error(err, error)
        return 1
    except BrokenPipeError:  # `omc export ... --out - | head`: the reader stopped listening
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        err.print(f"[bold red]error[/] cannot write: {error}", highlight=False, soft_wrap=True)
        return 1
    return 0


def validate_command(missions: list[str]) -> int:
    """``omc validate``: load every file, print every problem, exit 1 if any."""
    out, err = Console(), Console(stderr=True)
    failed = 0
    for mission in missions:
        try:
            spec = load_mission(mission)
        except MissionError as error:
            failed += 1
            _print_mission_error(err, error)
            continue
        extras = [(len(spec.events), "timeline events"), (len(spec.autopilot), "autopilot steps"),
                  (len(spec.fault_rates), "fault rates"), (len(spec.servicers), "servicers"),
                  (len(spec.objectives), "objectives"), (len(spec.hints), "hints"), (len(spec.steps), "walkthrough steps")]
        more = "".join(f", {count} {what}" for count, what in extras if count)
        out.print(
            f"[green]ok[/] {spec.source}: {spec.id} ({spec.kind}), {len(spec.satellites)} satellites, "
            f"{len(spec.ground_stations)} ground stations{more}",
            highlight=False,
            soft_wrap=True,  # a long path stays whole (and greppable)
        )
    return 1 if failed else 0


def missions_command() -> int:
    """``omc missions``: the bundled library."""
    table = Table(title="Bundled missions", title_justify="left")
    for column in ("id", "kind", "title", "duration", "file"):
        table.add_column(column, overflow="fold")
    for file in sorted(bundled_missions_dir().glob("*.toml")):
        try:
            header = MissionSection.model_validate(tomllib.loads(file.read_text(encoding="utf-8"))["mission"])
        except Exception as error:  # a broken bundled file is listed, not hidden
            table.add_row(file.stem, "?", f"[red]invalid: {type(error).__name__}[/]", "", file.name)
            continue
        table.add_row(header.id, header.kind, header.title, format_duration(header.duration), file.name)
    Console().print(table)
    return 0
