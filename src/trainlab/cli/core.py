"""Core commands: train, resume, datasets, models, report, study, demo."""

from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..console import TableOrLines
from ..errors import UserError, reporting
from .app import MAX_SEEDS, Sets, app, console, escape, home, whole_number, with_seeds

__all__ = ["train_cmd", "resume_cmd", "datasets_cmd", "report_cmd", "study_cmd", "demo_cmd"]

Device = Annotated[str, typer.Option("--device", help="auto, cpu or cuda")]

#: NaN/Inf-stopped models named one per line after a run; a sweep of 1000 seeds can have
#: hundreds, which would scroll the summary table away
MAX_NAN_LINES = 10
#: groups shown in the summary table (a longer sweep shows its best ones and says so)
MAX_GROUP_ROWS = 30


@app.command("train")
def train_cmd(
    config: Annotated[Path, typer.Argument(help="YAML config (see examples/)", callback=home)],
    seeds: Annotated[
        str | None, typer.Option(help="'0-9', '1,3,5', '0-2,5' or a count '4'")
    ] = None,
    set_: Sets = None,
    device: Device = "auto",
    out: Annotated[
        Path | None, typer.Option(help="run directory (must be new)", callback=home)
    ] = None,
    diagnose: Annotated[
        bool | None,
        typer.Option(
            "--diagnose/--no-diagnose",
            help="record per-layer diagnostics (every 50 steps unless train.diagnose_every says "
            "otherwise), or not even if the config asks",
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="write report.html at the end")] = True,
) -> None:
    """Train a config's population of models and write a run directory."""
    from ..config import load_config
    from ..train import train

    sets = with_seeds(set_, seeds)
    cfg = load_config(config, sets)
    if diagnose and cfg.train.diagnose_every is None:  # a value the config sets is kept
        cfg.train.diagnose_every = 50  # (the config is read once: it may come through a pipe)
    elif diagnose is False:
        cfg.train.diagnose_every = None
    # (the run is complete once train() returns: an interrupt from here on is about it,
    # errors.note_complete)
    result = train(cfg, out=out, device=device)
    every, steps = cfg.train.diagnose_every, result.summary.get("steps") or 0
    if every is not None and 1 < steps <= every:  # (steps 0, every, 2 every, ... are sampled)
        console.print(
            f"[yellow]diagnostics sampled step 0 only (one step in {every}; the run took {steps})"
            f": the verdict judges the first update; --set train.diagnose_every="
            f"{max(1, steps // 10)} samples more[/]"
        )
    _finish(result.run_dir, result.summary, report)


@app.command("resume")
def resume_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory", callback=home)],
    device: Annotated[
        str, typer.Option("--device", help="auto (the device the run trained on), cpu or cuda")
    ] = "auto",
    report: Annotated[bool, typer.Option(help="write report.html at the end")] = True,
) -> None:
    """Continue a killed or stopped run from its last checkpoint."""
    from ..diagnostics.run import finish_diagnose, is_diagnose_run
    from ..train import resume

    result = resume(
        run_dir, device=device, on_note=lambda m: console.print(f"[yellow]{escape(m)}[/]")
    )
    if result.run_dir is not None and is_diagnose_run(result.run_dir):  # its own report
        from .diagnose import print_diagnose

        print_diagnose(finish_diagnose(result.run_dir, result.summary, report=report))
        return
    _finish(result.run_dir, result.summary, report, has_set=False)


def _clipping(run_dir: Path | None) -> str:
    """``"train.clip_norm=1.0"`` (or clip_value) as the run's config.yaml sets it, else ``""``."""
    import yaml

    from ..config import load_yaml, read_yaml_text  # (1e-3 is a number, no alias bombs)

    try:
        train = (load_yaml(read_yaml_text(run_dir / "config.yaml")) or {}).get("train") or {}
        return ", ".join(
            f"train.{k}={train[k]}" for k in ("clip_norm", "clip_value") if train.get(k) is not None
        )
    except (TypeError, OSError, UnicodeError, yaml.YAMLError, AttributeError, UserError):
        return ""


def _epochs_to(summary: dict, nan_models: list[dict]) -> str:
    """`` --epochs N``: enough epochs for `trainlab diagnose` (3 by default) to reach the first
    NaN/Inf stop of the run whose ``summary`` it is, or ``""`` when its default reaches it."""
    from ..diagnostics.run import DEFAULT_EPOCHS

    steps, epochs = summary.get("steps"), summary.get("epochs")
    first = min((m.get("step") for m in nan_models if isinstance(m.get("step"), int)), default=None)
    if not (isinstance(steps, int) and isinstance(epochs, int) and steps >= epochs > 0) or (
        first is None
    ):
        return ""
    need = first // (steps // epochs) + 1  # (the epoch holding that step, or the one after)
    return f" --epochs {need}" if need > DEFAULT_EPOCHS else ""


def _finish(run_dir: Path | None, summary: dict, report: bool, *, has_set: bool = True) -> None:
    """Print the summary table, the NaN/Inf stops with a fix (``has_set``: the command takes
    ``--set``; else the fix is a new training run) and where the report and run are."""
    # the run is complete (summary.json): an interrupt from here on says `trainlab report DIR`
    with reporting(run_dir) if run_dir is not None else nullcontext():
        from ..report.rundata import read_population, split_sizes

        pop = run_dir / "population.json" if run_dir is not None else None
        sizes = split_sizes(read_population(pop)) if pop is not None and pop.is_file() else None
        has_val, has_test = (None, None) if sizes is None else (sizes[1] > 0, sizes[2] > 0)
        console.print(summary_table(summary, has_test=has_test, has_val=has_val))
        nan_models = summary.get("nan_models", [])
        for m in nan_models[:MAX_NAN_LINES]:
            console.print(
                f"[red]model {m['index']} (seed {m['seed']}, {escape(m['group'])}) stopped: "
                f"loss or gradient became NaN/Inf at step {m['step']}[/]"
            )
        if len(nan_models) > MAX_NAN_LINES:
            console.print(
                f"[red]… and {len(nan_models) - MAX_NAN_LINES} more models stopped for NaN/Inf[/] "
                "(all are listed in summary.json's nan_models and in the report)"
            )
        if nan_models:
            clips = _clipping(run_dir)
            if clips:
                how = f"lower optim.lr (the run already clips gradients: {clips})"
            else:
                how = "lower optim.lr, or set train.clip_norm"
                how += " (e.g. --set train.clip_norm=1)" if has_set else ""
            if not has_set:
                how += ", in a new `trainlab train` run (a resumed run keeps its settings)"
            at_start = sum(m.get("step") == 0 for m in nan_models)  # (the initial weights failed)
            first = (
                "a smaller init (init.scheme, init.std) or scaled inputs (data.preprocess): the "
                "loss was NaN/Inf at step 0, on the initial weights, before the lr or clipping "
                "acted"
            )
            if at_start == len(nan_models):
                how = first
            elif at_start:
                how = f"{how}; for the {at_start} stopped at step 0, {first}"
            console.print(
                f"[yellow]fix: {how}; `trainlab diagnose CONFIG{_epochs_to(summary, nan_models)}` "
                "names the first layer where NaN/Inf appears[/]"
            )
        if run_dir is not None:
            if report:  # (imported here: matplotlib is ~1 s of a --no-report run's start)
                from ..report import build_report

                console.print(f"report: {escape(str(build_report(run_dir)))}")
            console.print(f"run directory: {escape(str(run_dir))}")


def summary_table(
    summary: dict, has_test: bool | None = None, has_val: bool | None = None
) -> TableOrLines:
    """Final test accuracy and loss per override group: mean ± std, the 95% CI half-width of
    the mean test accuracy, and n, the models in those statistics (``"9 of 10"`` when some
    stopped for NaN/Inf and are left out). A run without a test split (``data.test_fraction:
    0``; ``has_test``, from the data's split sizes, or if None guessed from the numbers) shows
    the validation split's numbers instead, and one without either (``has_val``) the training
    numbers, and says so."""
    from ..report.tables import fmt_fixed, fmt_mean_std

    title = f"{summary['name']}: {summary['k']} models, {summary['epochs']} epochs"
    groups = summary["groups"]

    def measured(split: str) -> bool:
        return any(g["aggregates"].get(f"{split}_acc", {}).get("n") for g in groups)

    if has_test is None:  # (no model measured: all stopped for NaN/Inf, shown as "0 of K")
        has_test = measured("test") or not (measured("val") or measured("train"))
    if has_val is None:
        has_val = measured("val") or not measured("train")
    split = "test"
    if not has_test and has_val:
        split, title = "val", title + " (no test split: validation numbers)"
    elif not has_test:
        split, title = "train", title + " (no validation or test split: training numbers)"
    caption = None
    if len(groups) > MAX_GROUP_ROWS:  # a long sweep: its best groups, in the config's order

        def mean_acc(g: dict) -> float:
            m = g["aggregates"][f"{split}_acc"].get("mean")
            return -math.inf if m is None else m

        best = sorted(range(len(groups)), key=lambda i: -mean_acc(groups[i]))[:MAX_GROUP_ROWS]
        caption = (
            f"the {MAX_GROUP_ROWS} groups with the best mean {split}_acc of {len(groups)}; "
            "all are in summary.json and report.html"
        )
        groups = [groups[i] for i in sorted(best)]
    table = Table(title=escape(title), caption=caption)
    for col in ("group", "n", f"{split}_acc", "95% CI ±", f"{split}_loss"):
        table.add_column(col, justify="left" if col == "group" else "right", overflow="fold")
    lines = [Text(title, style="italic", justify="center")]
    for g in groups:
        acc, loss = g["aggregates"][f"{split}_acc"], g["aggregates"][f"{split}_loss"]
        used = acc.get("n", 0)
        n = str(used) if used == g["n"] else f"{used} of {g['n']}"
        cells = (fmt_mean_std(acc), fmt_fixed(acc.get("ci95")), fmt_mean_std(loss))
        table.add_row(escape(g["group"]), n, *cells)
        lines.append(
            Text(
                f"{g['group']}: n {n}, {split}_acc {cells[0]} (95% CI ± {cells[1]}), "
                f"{split}_loss {cells[2]}"
            )
        )
    if caption is not None:
        lines.append(Text(caption, style="dim"))
    return TableOrLines(table, lines)


def print_listing(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column table of registry entries: name and description (shown as written:
    ``[conv-BN-act-pool]`` is text, not rich markup)."""
    table = Table(title=title)
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    for name, desc in rows:
        table.add_row(escape(name), escape(desc))
    console.print(table)


@app.command("datasets")
def datasets_cmd() -> None:
    """List the data sets (all offline)."""
    from ..data import list_datasets

    print_listing("data sets", list_datasets())


@app.command("models")
def models_cmd() -> None:
    """List the models."""
    from ..models import list_models

    print_listing("models", list_models())


@app.command("report")
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory", callback=home)],
) -> None:
    """(Re)build report.html and figures/ of a run directory."""
    from ..errors import on_interrupt, shell_path
    from ..report import build_report

    again = f"the report is not finished; `trainlab report {shell_path(run_dir)}` writes it"
    with on_interrupt(again):  # (the run's own files are read, never changed)
        path = build_report(run_dir)  # (a finished diagnose run: its verdict made again)
    console.print(f"report: {escape(str(path))}")


@app.command("study")
def study_cmd(
    name: Annotated[str | None, typer.Argument(help="study name; omit to list them")] = None,
    quick: Annotated[bool, typer.Option(help="small, fast version (CI)")] = False,
    seeds: Annotated[str | None, typer.Option(help="seeds per cell (a count, e.g. 5)")] = None,
    device: Device = "auto",
    out: Annotated[Path | None, typer.Option(help="run directory", callback=home)] = None,
) -> None:
    """Run one of the notes' experiments with many seeds; writes tables, figures, report."""
    from ..studies import claims_summary, list_studies, run_study

    if name is None:
        print_listing("studies", list_studies())
        return
    count = whole_number("--seeds", seeds)  # a count per cell (not train's '0-4' range form)
    if count is not None and count > MAX_SEEDS:  # (below 1: the study says so)
        raise UserError(f"--seeds {count}: more than {MAX_SEEDS} models per cell; ask for fewer")
    path = run_study(name, out, quick=quick, seeds=count, device=device, progress=True)
    if (summary := claims_summary(path)) is not None:
        console.print(escape(summary))
    if (path / "report.html").is_file():  # (its claims, expected beside measured, are there)
        console.print(f"report: {escape(str(path / 'report.html'))}")
    console.print(f"study {name}: {escape(str(path))}")


@app.command("demo")
def demo_cmd(
    out: Annotated[Path | None, typer.Option(help="run directory", callback=home)] = None,
    device: Device = "auto",
) -> None:
    """The notes' MNIST recipe on digits: seeds × init schemes as one population, with a report."""
    from ..demo import run_demo

    result = run_demo(out=out, device=device)
    _finish(result.run_dir, result.summary, True, has_set=False)
