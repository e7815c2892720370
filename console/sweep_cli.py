"""``omc sweep``: run a Monte-Carlo campaign of a mission (engine.sweep) with a progress bar, stream its rows
to a JSON-lines file (resuming a file that has some), and print the summary table; ``omc sweep --summary
FILE`` prints it again from the file. Also run k of a campaign as a plain mission, for ``omc run
--sweep-run K`` and ``omc MISSION --sweep-run K``."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from engine.mission import MissionError, MissionSpec

DESCRIPTION = """Run MISSION many times: run k takes grid point k mod G of the mission's [sweep.grid], draws its
[sweep.random] values and its simulation seed from child k of SeedSequence(campaign seed), runs headless to the
end and records the [sweep] metrics and failures. One JSON line per run goes to --out as runs finish; running the
same command again resumes the file, skipping finished runs (a file of a different mission or sweep is refused);
with --retry-errors the runs that raised run again too, and their new rows count. The summary table (metric
distributions, failure probabilities with 95 % Wilson intervals) ends the campaign; --summary FILE prints it again. omc run MISSION --sweep-run K reproduces run K alone."""


def add_sweep_parser(commands: Any) -> None:
    """The ``sweep`` subcommand's arguments."""
    sweep = commands.add_parser("sweep", help="run a Monte-Carlo campaign of a mission (JSON lines, summary table)",
                                description=DESCRIPTION)
    sweep.add_argument("mission", nargs="?", help="mission file path or bundled mission id")
    sweep.add_argument("--runs", type=int, metavar="N", help="number of runs (default: the mission's [sweep] runs)")
    sweep.add_argument("--workers", type=int, metavar="K",
                       help="parallel runs (default: every CPU of this machine; with --dask: every worker thread)")
    sweep.add_argument("--dask", metavar="ADDRESS",
                       help="run on the dask.distributed cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786)")
    sweep.add_argument("--out", type=Path, metavar="FILE",
                       help="results file, resumed if it exists (default: sweeps/<mission id>-<campaign hash>.jsonl)")
    sweep.add_argument("--seed", type=int, help="campaign seed (default: [sweep] seed, else the mission seed)")
    sweep.add_argument("--summary", type=Path, metavar="FILE", help="print the summary of a results file and exit")
    sweep.add_argument("--retry-errors", action="store_true",
                       help="run again the runs whose row says status \"error\" (a run that raised; its new row counts)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")


def _error(err: Console, message: str) -> None:
    err.print(f"[bold red]error[/] {message}", highlight=False, soft_wrap=True, markup=True)


def _refused(err: Console, error: Exception) -> None:
    """A mission file's errors (each with file, line and key) or a campaign's one reason, on stderr."""
    if isinstance(error, MissionError):
        for issue in error.issues:
            err.print(f"[bold red]error[/] {issue}", markup=True, highlight=False, soft_wrap=True)
    else:
        _error(err, str(error))


def sweep_command(options: argparse.Namespace) -> int:
    """``omc sweep``."""
    from engine.sweep import SweepError, read_results

    err, out = Console(stderr=True), Console()
    if options.summary is not None:
        if options.mission is not None or options.runs is not None:
            _error(err, "--summary FILE only prints a results file's summary; give no mission or --runs with it")
            return 2
        if not options.summary.is_file():
            _error(err, f"{options.summary}: no such results file")
            return 1
        try:
            results = read_results(options.summary)
        except SweepError as error:
            _error(err, str(error))
            return 1
        if results.torn_bytes:
            err.print(f"{options.summary}: its last line is incomplete (a run being written when the campaign stopped); "
                      "left out", highlight=False, soft_wrap=True)
        if not results.rows:
            _error(err, f"{options.summary}: no runs in it")
            return 1
        out.print(summary_renderable(results.rows, options.summary))
        return 0
    if options.mission is None:
        _error(err, "give a MISSION to sweep (or --summary FILE)")
        return 2
    if options.runs is not None and options.runs < 1:
        _error(err, "--runs must be at least 1")
        return 2
    if options.workers is not None and options.workers < 1:
        _error(err, "--workers must be at least 1")
        return 2
    try:
        return _run_campaign(options, err, out)
    except (MissionError, SweepError) as error:
        _refused(err, error)
        return 1


def _run_campaign(options: argparse.Namespace, err: Console, out: Console) -> int:
    from engine.sweep import check_resumable, default_results_path, load_campaign, read_results

    campaign = load_campaign(options.mission, options.seed)
    runs = options.runs if options.runs is not None else campaign.sweep.runs
    if runs is None:
        _error(err, f"how many runs? {campaign.mission_id} has no [sweep] runs; give --runs N")
        return 2
    path = options.out if options.out is not None else default_results_path(campaign)
    results = read_results(path)
    check_resumable(results, campaign, path)
    errored = {row["run"] for row in results.rows if row.get("status") == "error"} if options.retry_errors else set()
    todo = [run for run in range(runs) if run not in results.runs or run in errored]
    client = None
    if options.dask and todo:
        from distributed import Client

        try:
            client = Client(options.dask, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            _error(err, f"cannot reach the Dask scheduler at {options.dask}: {error}")
            return 1
        threads = client.nthreads()
        where = f"the Dask cluster at {options.dask} ({len(threads)} workers, {sum(threads.values())} threads)"
    else:
        from joblib import cpu_count

        workers = options.workers or cpu_count()
        where = "this process" if workers == 1 else f"{workers} local worker processes"
    try:
        return _execute(campaign, runs, path, results, todo, where, client, options, err, out)
    finally:
        if client is not None:
            client.close()


def _execute(campaign, runs: int, path: Path, results, todo: list[int], where: str, client, options: argparse.Namespace,
             err: Console, out: Console) -> int:
    """Run the runs in `todo` into the results file at `path`, then print the summary."""
    from engine.sweep import ResultsWriter

    rows_of = {row["run"]: row for row in results.rows}  # a retried run's new row replaces its error row
    finished = len([run for run in results.runs if run < runs and run not in todo])
    again = len([run for run in todo if run in rows_of])
    grid = f", {campaign.grid_size} grid points" if campaign.sweep.grid else ""
    resumed = (f"; {finished} done, {len(todo)} to run" + (f" ({again} after an error)" if again else "")
               if finished or again else "")
    if not options.quiet:
        err.print(f"campaign {campaign.mission_id} (seed {campaign.seed}, hash {campaign.hash}): {runs} runs{grid} "
                  f"-> {path}{resumed}" + (f", on {where}" if todo else ""), highlight=False, soft_wrap=True)
    if results.torn_bytes and not options.quiet:
        err.print(f"{path}: its last line was incomplete (the run being written when the campaign stopped); "
                  "it is cut off and that run runs again", highlight=False, soft_wrap=True)
    interrupted = None
    ran: set[int] = set()
    if todo:
        with ResultsWriter(path, results) as writer:
            stream = _rows_with_progress(campaign, todo, options, err, finished, runs, client)
            try:
                for row in stream:
                    writer.write(row)
                    rows_of[row["run"]] = row
                    ran.add(row["run"])
            except KeyboardInterrupt:
                interrupted = "interrupted"
            except Exception as error:  # a worker died, the cluster went away: keep what is written
                interrupted = f"the campaign stopped: {type(error).__name__}: {error}"
            finally:
                stream.close()
    elif results.torn_bytes:
        ResultsWriter(path, results).close()  # cut the torn line off
    rows = list(rows_of.values())
    if interrupted is not None:
        left = len([run for run in todo if run not in ran])
        err.print(f"[bold yellow]{interrupted}[/]: {len(rows)} runs in {path}, {left} not run; run the same command "
                  "again to resume", highlight=False, soft_wrap=True)
        return 130 if interrupted == "interrupted" else 1
    if not options.quiet:
        out.print(summary_renderable(rows, path))
    errors = sum(1 for row in rows if row.get("status") != "ok")
    if errors and not options.quiet:
        err.print(f"{errors} run{'s' if errors != 1 else ''} raised an error (status \"error\" in {path}; "
                  "--retry-errors runs them again)", highlight=False, soft_wrap=True)
    return 0


def _rows_with_progress(campaign, todo: list[int], options: argparse.Namespace, err: Console, finished: int, runs: int,
                        client=None):
    """Rows of the runs in `todo` as they finish (on the Dask `client`, else the local pool), with a progress
    bar on stderr (unless --quiet)."""
    from engine.sweep import run_campaign

    rows = run_campaign(campaign, campaign.plan(todo), workers=options.workers, dask=client)
    try:
        if options.quiet:
            yield from rows
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        errors = 0
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[errors]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                      console=err, transient=False) as progress:
            task = progress.add_task(campaign.mission_id, total=runs, completed=finished, errors="")
            for row in rows:
                if row.get("status") != "ok":
                    errors += 1
                progress.update(task, advance=1, errors=f"{errors} error{'s' if errors != 1 else ''}" if errors else "")
                yield row
    finally:
        rows.close()  # stops the pool's pending runs when the campaign is interrupted


# -------------------------------------------------------------------------------------------- summary


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4g}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _short_interval(proportion) -> str:
    """``"33% (6–79%)"``: a probability and its interval, in whole percent."""
    if proportion.p is None:
        return "–"
    low, high = proportion.interval
    return f"{proportion.p:.0%} ({low * 100:.0f}–{high:.0%})"


def _table(title: str, first: str, *columns: str) -> Table:
    """A summary table: the first column (names) left and unwrapped where it fits, numbers right."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column(first, justify="left", overflow="fold", ratio=None)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def summary_renderable(rows: list[dict[str, Any]], path: Path | str | None = None) -> Group:
    """The campaign's summary tables (engine.sweep_summary.summarise)."""
    from engine.sweep_summary import summarise

    summary = summarise(rows)
    parts: list[Any] = []
    title = f"Campaign {summary.mission or '?'}: {summary.runs} runs, {summary.ok} ok"
    title += f", {len(summary.errors)} with errors (left out)" if summary.errors else ""
    parts.append(Text(title, style="bold"))
    if len(summary.mission_hashes) > 1:
        parts.append(Text(f"warning: rows of {len(summary.mission_hashes)} different campaigns (mission hashes "
                          f"{', '.join(summary.mission_hashes)})", style="yellow"))
    if summary.numeric:
        means = _table("Metrics at the runs' end: mean and its 95 % confidence interval (Student t)",
                       "metric", "n", "mean", "95 % CI of mean", "std")
        spread = _table("Metrics at the runs' end: distribution", "metric", "min", "p5", "p50", "p95", "max")
        for s in summary.numeric:
            ci = "–" if s.ci is None else f"{_number(s.ci[0])} – {_number(s.ci[1])}"
            n = f"{s.n}" + (f" ({s.missing} null)" if s.missing else "")
            means.add_row(s.name, n, _number(s.mean), ci, _number(s.std))
            spread.add_row(s.name, *(_number(v) for v in (s.min, s.p5, s.p50, s.p95, s.max)))
        parts.extend([means, spread])
    if summary.flags or summary.categories:
        table = Table(title="True/false and text metrics", title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("metric", "runs", "values"):
            table.add_column(column, overflow="fold")
        for flag in summary.flags:
            table.add_row(flag.name, str(flag.n), f"true in {flag.k} ({_percent(flag.p)}, 95 % {_percent(flag.interval[0])} – "
                                                  f"{_percent(flag.interval[1])})")
        for category in summary.categories:
            values = ", ".join(f"{value}: {count}" for value, count in category.counts[:8])
            more = f", … {len(category.counts) - 8} more" if len(category.counts) > 8 else ""
            table.add_row(category.name, str(sum(c for _, c in category.counts)), values + more)
        parts.append(table)
    if summary.empty:
        parts.append(Text(f"no value in any run: {', '.join(summary.empty)}", style="dim"))
    if summary.failures:
        table = _table("Failures: probability and its 95 % Wilson interval", "failure", "failed / runs", "probability",
                       "95 % interval")
        for f in summary.failures:
            table.add_row(f.name, f"{f.k} / {f.n}", _percent(f.p), f"{_percent(f.interval[0])} – {_percent(f.interval[1])}")
        parts.append(table)
    if summary.grid:
        keys = list(summary.grid[0].values)
        table = Table(title="By grid point", title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column(" · ".join(keys), no_wrap=True, style="bold")
        for point in summary.grid:
            table.add_column(" · ".join(str(point.values.get(key)) for key in keys), justify="right", overflow="fold")
        table.add_row("runs", *(str(point.runs) for point in summary.grid))
        for index, failure in enumerate(summary.failures):
            table.add_row(f"P({failure.name})", *(_short_interval(p.failures[index]) for p in summary.grid))
        for stats in summary.numeric:
            table.add_row(f"mean of {stats.name}", *(_number(point.means.get(stats.name)) for point in summary.grid))
        parts.append(table)
    if summary.errors:
        table = Table(title="Errors", title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("run", justify="right")
        table.add_column("error", overflow="fold")
        for run, message in summary.errors[:10]:
            table.add_row(str(run), message)
        if len(summary.errors) > 10:
            table.add_row("…", f"{len(summary.errors) - 10} more")
        parts.append(table)
    footer = f"{summary.wall_s:,.1f} s of run time in total"
    if path is not None:
        footer += f" · rows in {path} · omc sweep --summary {path}"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


# ------------------------------------------------------------------------------------ run k on its own


@dataclass
class SweepRun:
    """Run k of a campaign as a plain mission file (in a temporary directory kept while this object
    lives): its spec, loaded from that file so that a recording keeps exactly this run's mission."""

    spec: MissionSpec
    seed: int
    item: Any
    path: Path
    _directory: tempfile.TemporaryDirectory


def sweep_run_mission(mission: str, run: int, campaign_seed: int | None, err: Console | None = None) -> SweepRun:
    """Run `run` of `mission`'s campaign (campaign seed `campaign_seed`, default the mission's) as a mission
    with its overrides and seed; says which on `err`. MissionError, SweepError or ValueError if it cannot."""
    from engine.mission import load_mission
    from engine.mission.toml_dump import dumps
    from engine.sweep import SweepError, load_campaign, run_document

    if run < 0:
        raise SweepError(f"--sweep-run takes a run number from 0, got {run}")
    campaign = load_campaign(mission, campaign_seed)
    item = campaign.item(run)
    directory = tempfile.TemporaryDirectory(prefix="omc-sweep-run-")
    path = Path(directory.name) / f"{campaign.mission_id}-run{run}.toml"
    header = (f"# Run {run} of the {campaign.mission_id} campaign (campaign seed {campaign.seed}, hash {campaign.hash}),\n"
              f"# written by omc --sweep-run from {campaign.source}: the mission with this run's overrides and seed.\n")
    document = run_document(campaign.document, item)
    mission_table = document.setdefault("mission", {})  # the console's title bar says which run this is
    mission_table["title"] = f"sweep run {run} · {mission_table.get('title', campaign.mission_id)}"
    path.write_text(header + dumps(document), encoding="utf-8")
    spec = load_mission(path)
    if err is not None:
        overrides = ", ".join(f"{key} = {value!r}" for key, value in item.overrides().items()) or "no overrides"
        err.print(f"sweep run {run} of {campaign.mission_id} (campaign seed {campaign.seed}): seed {item.seed}, {overrides}",
                  highlight=False, soft_wrap=True)
    return SweepRun(spec, item.seed, item, path, directory)


def open_sweep_run(opened: argparse.Namespace) -> int:
    """``omc MISSION --sweep-run K``: the console on run K of the mission's campaign."""
    from console.cli import open_mission
    from engine.sweep import SweepError

    err = Console(stderr=True)
    try:
        run = sweep_run_mission(opened.mission, opened.sweep_run, opened.seed, err)
    except (MissionError, SweepError) as error:
        _refused(err, error)
        return 1
    return open_mission(opened.mission, seed=run.seed, record=None if opened.no_record else (opened.record or True),
                        spec=run.spec)
