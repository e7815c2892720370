"""The ``omc`` command line: open a mission, run it headless, validate mission files, list missions."""

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

SUBCOMMANDS = ("run", "validate", "missions", "show")
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

    validate = commands.add_parser("validate", help="check mission files; exit 1 on any error")
    validate.add_argument("missions", nargs="+", help="mission file paths or bundled mission ids")

    commands.add_parser("missions", help="list the bundled mission library")

    show = commands.add_parser("show", help="print a mission's summary (fleet, hardware, stations) without running it")
    show.add_argument("mission", help="mission file path or bundled mission id")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``omc`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in SUBCOMMANDS and arguments[0] not in ("-h", "--help")):
        opener = argparse.ArgumentParser(prog="omc", description="Open a mission in the live console.")
        opener.add_argument("mission", nargs="?", default=DEFAULT_MISSION, help="mission file path or bundled mission id (default: sandbox)")
        opener.add_argument("--seed", type=int, help="random seed (default: the mission seed)")
        opened = opener.parse_args(arguments)
        return open_mission(opened.mission, seed=opened.seed)
    options = build_parser().parse_args(arguments)
    if options.command == "run":
        return run_command(options)
    if options.command == "validate":
        return validate_command(options.missions)
    if options.command == "show":
        return show_command(options.mission)
    return missions_command()


def _print_mission_error(console: Console, error: MissionError) -> None:
    for issue in error.issues:
        console.print(f"[bold red]error[/] {issue}", markup=True, highlight=False, soft_wrap=True)


def open_mission(mission: str, seed: int | None = None) -> int:
    """Open a mission in the live console."""
    try:
        spec = load_mission(mission)
    except MissionError as error:
        _print_mission_error(Console(stderr=True), error)
        return 1
    from console.app import MissionControlApp

    MissionControlApp(spec, seed=seed).run()
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
    """``omc run``: step the mission headless, show progress and a summary, write the report."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from engine.report import build_report
    from engine.runner import run_headless

    err = Console(stderr=True)
    try:
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

    started = time.perf_counter()
    if options.quiet:
        sim = run_headless(spec, until_s=end_s, step_s=options.step, seed=options.seed, autopilot=not options.no_autopilot)
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

            sim = run_headless(spec, until_s=end_s, step_s=options.step, seed=options.seed, on_progress=on_progress,
                               autopilot=not options.no_autopilot)
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
