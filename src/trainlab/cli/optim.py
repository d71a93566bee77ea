"""Optimizer commands: ``trainlab schedule CONFIG`` and ``trainlab lr-find CONFIG``."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ..errors import UserError, shell_path
from .app import MAX_SEEDS, Sets, app, console, escape, home, whole_number

if TYPE_CHECKING:
    import torch

    from ..config import Config, Member
    from ..optim import Schedule

__all__ = [
    "schedule_cmd",
    "lr_find_cmd",
    "schedule_curves",
    "schedule_parameters",
    "distinct_curves",
    "schedule_figure",
]


def schedule_curves(config: Config) -> tuple[list[Member], Schedule, torch.Tensor, int]:
    """Every model's LR at every step of ``config``: ``(members, schedule, curve (S, K), spe)``.

    The members' overrides include their per-model schedule values (``schedule.gamma``), as
    the trainer records them. Loads the data only to count the training samples (steps per
    epoch).
    """
    import torch

    from ..config import members, resolve, schedule_epochs, schedule_kwargs
    from ..models import check_options
    from ..optim import create_schedule
    from ..train import check_optimizer, load_dataset, record_schedule_overrides

    mems = members(config)
    cfgs = [resolve(config, m.overrides) for m in mems]
    check_optimizer(cfgs)  # a typo'd optimizer key is refused here as by `trainlab train`
    for c in cfgs:  # (and a model option: the model itself is not built here)
        check_options(c.model.name, c.model.kwargs("name"))
    ds = load_dataset(config)
    n = ds.x_train.shape[0]
    spe = math.ceil(n / min(config.train.batch_size, n))
    base = [c.optim.lr for c in cfgs]
    given = schedule_kwargs(config, mems)
    sched = create_schedule(
        config.schedule.name,
        torch.tensor(base, dtype=torch.float64),
        total_steps=schedule_epochs(config) * spe,
        steps_per_epoch=spe,
        **given,
    )
    record_schedule_overrides(mems, sched, given)  # as Trainer does
    return mems, sched, sched.curve(config.train.epochs * spe), spe


def schedule_parameters(sched: Schedule, given: dict[str, Any]) -> str:
    """``t_max=220 (default), eta_min=0 (default), ...``: every parameter the schedule used,
    marking those the config leaves out (``config.yaml`` does not record them)."""

    def fmt(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return f"{v:g}" if isinstance(v, float) else str(v)

    warm = sched.resolved.get("warmup_steps", 0) or "warmup_steps" in given
    keys = [k for k in sched.resolved if not k.startswith("warmup_")]
    keys += [k for k in sched.resolved if k.startswith("warmup_") and warm]
    return ", ".join(
        f"{k}={fmt(sched.resolved[k])}{'' if k in given else ' (default)'}" for k in keys
    )


@app.command("schedule")
def schedule_cmd(
    config: Annotated[Path, typer.Argument(help="YAML config", callback=home)],
    set_: Sets = None,
    plot: Annotated[bool, typer.Option("--plot", help="draw the LR of every model")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="where --plot writes the PNG (default schedule.png; implies --plot)",
            callback=home,
        ),
    ] = None,
) -> None:
    """Show the learning rate of every model over the run (per epoch; --plot draws it)."""
    from ..config import load_config

    plot = plot or out is not None
    if out is None and plot and os.path.lexists("schedule.png"):  # (not given: say it is ours;
        # lexists: a link to nothing is never replaced either)
        raise UserError(
            "schedule.png (--plot's default file) exists; pass --out FILE, or remove it first"
        )
    out = Path("schedule.png") if out is None else out
    cfg = load_config(config, list(set_ or []))
    mems, sched, curve, spe = schedule_curves(cfg)  # (a refused config makes no --out folder)
    out, made = _png(out) if plot else (out, [])
    with _removed_on_failure(made):
        _schedule_show(cfg, mems, sched, curve, spe, out if plot else None)


def _schedule_show(
    cfg: Any, mems: list[Any], sched: Any, curve: Any, spe: int, out: Path | None
) -> None:
    """schedule's table of the lr at each epoch's start, and with ``out`` its plot."""
    from ..config import schedule_kwargs

    steps = curve.shape[0]
    firsts, labels, _ = distinct_curves(mems, curve)
    table = Table(title=f"schedule '{cfg.schedule.name}': lr at the start of each epoch")
    table.add_column("epoch", justify="right")
    at = [min(e * spe, steps - 1) for e in range(cfg.train.epochs)]
    cells = {i: [f"{float(curve[s, i]):.4g}" for s in at] for i in firsts[:6]}
    # as many curves as fit with every number whole (a folded 0.0009938 read as 0.00, 0993;
    # a label, optim.lr=0.001, as optim.lr=0.0, 01)
    used, shown = 4 + max(5, len(str(cfg.train.epochs - 1))), []
    for i, column in cells.items():
        used += max(len(labels[i]), *map(len, column)) + 3  # its padding and border
        if shown and used > console.width:
            break
        shown.append(i)
    for i in shown:
        table.add_column(labels[i], justify="right", overflow="fold")
    for e in range(cfg.train.epochs):
        table.add_row(str(e), *(cells[i][e] for i in shown))
    console.print(table)
    shown_params = schedule_parameters(sched, schedule_kwargs(cfg))  # (as given: mems now
    # also hold the per-model values the schedule resolved)
    if shown_params:
        console.print(f"parameters: {escape(shown_params)}")
    if len(firsts) > len(shown):
        hidden = len(firsts) - len(shown)
        what = "curve is" if hidden == 1 else "curves are"
        draws = "the plot draws all" if out is not None else "--plot draws all"
        console.print(f"({hidden} more {what} not shown in this table; {draws})")
    if out is not None:
        from ..report.plots import save_figure

        fig = schedule_figure(cfg.schedule.name, mems, curve, spe)
        save_figure(fig, out, dpi=110, exclusive=True)
        console.print(f"plot: {escape(str(out))}")


@contextlib.contextmanager
def _removed_on_failure(made: list[Path]) -> Iterator[None]:
    """The folders ``--out`` made (``made``, deepest first) are removed again, if still empty,
    when the command fails or is interrupted: no empty folder left behind."""
    try:
        yield
    except BaseException:
        for folder in made:
            with contextlib.suppress(OSError):  # (not empty: something else wrote there)
                folder.rmdir()
        raise


def distinct_curves(
    members: list[Member], curve: torch.Tensor
) -> tuple[list[int], dict[int, str], list[int]]:
    """The models with distinct LR curves ``curve (S, K)``: ``(firsts, labels, owner)``.

    ``firsts``: the first model of each distinct curve, in model order; ``owner[i]``: the first
    model whose curve equals model i's; ``labels[f]``: the overrides that every model on curve
    ``f`` shares (``optim.lr=0.1`` for the lr-0.1 models of an ``init.scheme × optim.lr``
    grid), ``default`` when none of them has any; a curve that this leaves unnamed or named as
    another curve is, also gets its first model's index and seed.
    """
    import torch

    _, inverse = torch.unique(curve.T, dim=0, return_inverse=True)  # (K,) curve id per model
    first_of: dict[int, int] = {}
    owner = [first_of.setdefault(int(c), i) for i, c in enumerate(inverse.tolist())]
    firsts = sorted(set(owner))
    labels = {}
    for f in firsts:
        on = [members[j] for j in range(len(members)) if owner[j] == f]
        shared = [(k, v) for k, v in on[0].overrides.items()
                  if all(k in m.overrides and m.overrides[k] == v for m in on[1:])]  # fmt: skip
        plain = all(not m.overrides for m in on)
        labels[f] = ", ".join(f"{k}={v}" for k, v in shared) or ("default" if plain else "")
    named = [labels[f] for f in firsts]
    for f in firsts:
        if not labels[f] or named.count(labels[f]) > 1:
            who = f"model {f}, seed {members[f].seed}"
            labels[f] = f"{labels[f]} ({who})" if labels[f] else who
    return firsts, labels, owner


def schedule_figure(name: str, members: list[Member], curve: torch.Tensor, spe: int) -> Any:
    """The LR of every model against the epoch (step-wise, as the trainer applies it).

    Models with the same curve share a colour and one legend entry (up to 12 entries); the LR
    axis is logarithmic when the models' peak LRs span a decade or more (an LR grid), down to
    1e-3 of the smallest peak."""
    from matplotlib.figure import Figure

    firsts, labels, owner = distinct_curves(members, curve)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    x = [s / spe for s in range(curve.shape[0] + 1)]  # a step's lr holds until the next step
    colors = {f: f"C{n % 10}" for n, f in enumerate(firsts)}
    for i in range(curve.shape[1]):
        f = owner[i]
        ax.stairs(curve[:, i].tolist(), x, lw=1.2, color=colors[f], baseline=None,
                  label=labels[f] if i == f else None)  # fmt: skip
    peaks = curve.max(0).values  # (K,) each model's largest lr
    log = bool((peaks > 0).all()) and float(peaks.max() / peaks.min()) >= 10.0
    if log:  # an lr grid: equal ratios as equal distances
        ax.set_yscale("log")
        positive = curve[curve > 0]
        # a decay towards 0 would otherwise stretch the axis over many empty decades
        ax.set_ylim(bottom=max(float(positive.min()), float(peaks.min()) * 1e-3) / 1.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate" + (" (log scale)" if log else ""))
    k = curve.shape[1]
    ax.set_title(
        f"schedule '{name}' ({k} model{'s' if k != 1 else ''}, {len(firsts)} distinct "
        f"curve{'s' if len(firsts) != 1 else ''})"
    )
    if len(firsts) <= 12:
        ax.legend(fontsize=7)
    return fig


@app.command("lr-find")
def lr_find_cmd(
    config: Annotated[Path, typer.Argument(help="YAML config", callback=home)],
    set_: Sets = None,
    start_lr: Annotated[float, typer.Option(help="first LR")] = 1e-7,
    end_lr: Annotated[float, typer.Option(help="last LR")] = 10.0,
    steps: Annotated[
        str | None,
        typer.Option(metavar="<int>", help="number of steps, one batch each [default: 100]"),
    ] = None,
    population: Annotated[
        str | None,
        typer.Option(metavar="<int>", help="instead: train N models at N log-spaced fixed LRs"),
    ] = None,
    epochs: Annotated[
        str | None,
        typer.Option(
            metavar="<int>",
            help="epochs of the --population variant [default: 1, or --set train.epochs]",
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    out: Annotated[Path, typer.Option(help="PNG of the curve", callback=home)] = Path(
        "lr_find.png"
    ),
) -> None:
    """LR range test (Smith 2017): loss against an exponentially growing LR; suggests an LR."""
    from ..config import keys_given, load_config
    from ..devices import resolve_device

    n_models = whole_number("--population", population)
    n_steps, n_epochs = whole_number("--steps", steps), whole_number("--epochs", epochs)
    if n_models is not None and not 2 <= n_models <= MAX_SEEDS:
        raise UserError(f"--population needs 2 to {MAX_SEEDS} models, got {n_models}")
    n_models = n_models or 0  # 0: the single-model range test
    if n_models and n_steps is not None:  # an option that would change nothing is refused
        raise UserError("--steps is the range test's; the --population variant takes --epochs")
    if not n_models and n_epochs is not None:
        raise UserError("--epochs is the --population variant's; the range test takes --steps")
    cfg = load_config(config, list(set_ or []))
    if n_epochs is None:  # --epochs wins over --set train.epochs, which wins over 1 (the
        # config file's own train.epochs is for a training run, not for this sweep)
        n_epochs = cfg.train.epochs if "train.epochs" in keys_given(set_) else 1
    resolve_device(device)  # a bad --device is refused before --out's folder is made
    out, made = _png(out)
    with _removed_on_failure(made):  # (refused options, an interrupt)
        n_steps = 100 if n_steps is None else n_steps
        _lr_find_run(cfg, out, n_models, start_lr, end_lr, n_steps, n_epochs, device)


def _lr_find_run(
    cfg: Any,
    out: Path,
    population: int,
    start_lr: float,
    end_lr: float,
    steps: int,
    epochs: int,
    device: str,
) -> None:
    """lr-find's work: the range test (or the population sweep), its table and plot."""
    from rich.text import Text

    from ..console import TableOrLines
    from ..optim.lr_find import log_spaced, lr_find, lr_sweep
    from ..report.plots import save_figure

    if population:
        res = lr_sweep(cfg, log_spaced(start_lr, end_lr, population), epochs=epochs, device=device)
        table = Table(title=f"{population} models at fixed LRs, {epochs} epoch(s)")
        for c in ("lr", "train_loss", "val_loss"):
            table.add_column(c, justify="right")
        lines = [Text(str(table.title), style="italic")]
        for lr, tl, vl in zip(res.lrs, res.train_loss, res.val_loss, strict=True):
            table.add_row(f"{lr:.3g}", f"{tl:.4g}", f"{vl:.4g}")
            lines.append(Text(f"lr {lr:.3g}: train_loss {tl:.4g}, val_loss {vl:.4g}"))
        console.print(TableOrLines(table, lines))  # (a narrow console: one line per model)
        if res.best_lr is None:
            console.print("every model diverged (NaN/Inf): try lower LRs (--start-lr, --end-lr)")
        else:
            what = (
                "validation" if res.best_metric == "val_loss" else "training (no validation split)"
            )
            console.print(f"best {what} loss at lr {res.best_lr:.3g}")
        save_figure(res.plot(), out, dpi=110, exclusive=True)
    else:
        res = lr_find(cfg, start_lr=start_lr, end_lr=end_lr, num_steps=steps, device=device)
        table = Table(title="LR range test")
        for c in ("model", "steep", "min/10", "stopped"):
            table.add_column(c, justify="left" if c in ("model", "stopped") else "right")
        lines = [Text("LR range test", style="italic")]
        for g, sug, why in zip(res.groups, res.suggestions, res.stop_reasons, strict=True):
            table.add_row(escape(g), _fmt(sug["steep"]), _fmt(sug["min/10"]), escape(why))
            lines.append(
                Text(f"{g}: steep {_fmt(sug['steep'])}, min/10 {_fmt(sug['min/10'])}, {why}")
            )
        console.print(TableOrLines(table, lines))  # (a narrow console: one line per model)
        if len(res.groups) == 1:
            console.print(f"suggested lr (steepest smoothed descent): {_fmt(res.suggestion)}")
        else:
            console.print(
                "suggested lr of each model: the 'steep' column (steepest smoothed descent)"
            )
        if any(sug["steep"] is None or sug["min/10"] is None for sug in res.suggestions):
            console.print(
                "(—: the smoothed loss never fell below its first value over the range, or too "
                "few points before it stopped; start lower (--start-lr) or take more --steps)"
            )
        save_figure(res.plot(), out, dpi=110, exclusive=True)
    console.print(f"plot: {escape(str(out))}")


def _png(out: Path) -> tuple[Path, list[Path]]:
    """``(out, made)``: ``out`` with ``.png`` added when it has no suffix (as matplotlib's
    savefig does), its folder created (``made``: the folders that did not exist, deepest
    first); a folder given as ``out``, a format matplotlib cannot write or a folder that
    cannot be made is a UserError, raised before any training."""
    import io
    import tempfile

    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.figure import Figure

    from ..runs import make_folder

    if out.is_dir() or out.name in ("", ".", ".."):
        raise UserError(
            f"--out {out} is a folder; give a file name, e.g. --out {shell_path(out / 'plot.png')}"
        )
    out = out if out.suffix else out.with_name(out.name + ".png")
    if os.path.lexists(out):  # (a link to nothing is never replaced either)
        raise UserError(f"--out {out} exists; pass another --out, or remove it first")
    formats = FigureCanvasBase.get_supported_filetypes()
    fmt = out.suffix[1:].lower()
    if fmt not in formats:
        raise UserError(
            f"--out {out}: matplotlib cannot write '{out.suffix}' files; "
            f"end the name with one of: {', '.join('.' + f for f in sorted(formats))}"
        )
    try:  # a listed format can still need a program this machine lacks (.pgf: a TeX install)
        probe = Figure(figsize=(1, 1))
        probe.text(0.5, 0.5, "lr 1e-3")  # text: .pgf only runs TeX when there is some
        probe.savefig(io.BytesIO(), format=fmt)
    except Exception as err:  # noqa: BLE001 - any backend failure means: cannot write it here
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(
            f"--out {out}: '{out.suffix}' files cannot be written here ({first}); "
            "use .png, .pdf or .svg"
        ) from None
    made = [p for p in [out.parent, *out.parent.parents] if not p.exists()]
    make_folder(out.parent)
    try:  # a folder that takes no files (read-only, /proc): said now, not after the training
        tempfile.TemporaryFile(dir=out.parent).close()
    except OSError as err:
        raise UserError(
            f"--out {out}: cannot write a file in {out.parent} ({err.strerror}); pass another --out"
        ) from None
    return out, made


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"
