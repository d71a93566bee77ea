"""Optimizer commands: ``trainlab schedule CONFIG`` and ``trainlab lr-find CONFIG``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import UserError
from .app import app, console, escape

if TYPE_CHECKING:
    import torch

    from ..config import Config

__all__ = ["schedule_cmd", "lr_find_cmd", "schedule_curves"]

Sets = Annotated[list[str] | None, typer.Option("--set", help="override: key=value")]


def schedule_curves(config: Config) -> tuple[list[str], list[float], torch.Tensor, int]:
    """Every model's LR at every step of ``config``: ``(groups, base_lrs, curve (S, K), spe)``.

    Loads the data only to count the training samples (steps per epoch).
    """
    import torch

    from ..config import members, resolve
    from ..optim import create_schedule
    from ..train import load_dataset

    ds = load_dataset(config)
    n = ds.x_train.shape[0]
    spe = math.ceil(n / min(config.train.batch_size, n))
    mems = members(config)
    base = [resolve(config, m.overrides).optim.lr for m in mems]
    sched = create_schedule(
        config.schedule.name,
        torch.tensor(base, dtype=torch.float64),
        total_steps=config.train.epochs * spe,
        steps_per_epoch=spe,
        **config.schedule.kwargs("name"),
    )
    groups = [f"{m.group} (seed {m.seed})" for m in mems]
    return groups, base, sched.curve(), spe


@app.command("schedule")
def schedule_cmd(
    config: Annotated[Path, typer.Argument(help="YAML config")],
    set_: Sets = None,
    plot: Annotated[bool, typer.Option("--plot", help="draw the LR of every model")] = False,
    out: Annotated[Path, typer.Option(help="where --plot writes the PNG")] = Path("schedule.png"),
) -> None:
    """Show the learning rate of every model over the run (per epoch; --plot draws it)."""
    from ..config import load_config

    cfg = load_config(config, list(set_ or []))
    if plot:
        out = _png(out)
    groups, _, curve, spe = schedule_curves(cfg)
    steps = curve.shape[0]
    table = Table(title=f"schedule '{cfg.schedule.name}': lr at the start of each epoch")
    table.add_column("epoch", justify="right")
    labels = [g.rsplit(" (seed ", 1)[0] for g in groups]  # seeds never change the LR:
    firsts = list(dict.fromkeys(labels))  # one column per override group
    shown = [labels.index(g) for g in firsts[:6]]
    for i in shown:
        table.add_column(labels[i], justify="right", overflow="fold")
    for e in range(cfg.train.epochs):
        s = min(e * spe, steps - 1)
        table.add_row(str(e), *(f"{float(curve[s, i]):.4g}" for i in shown))
    console.print(table)
    if len(firsts) > len(shown):
        console.print(f"({len(firsts) - len(shown)} more groups not shown; --plot draws all)")
    if plot:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4.5))
        ax = fig.subplots()
        x = [s / spe for s in range(steps)]
        for i, g in enumerate(groups):
            ax.plot(x, curve[:, i].tolist(), lw=1.2, label=g)
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_title(f"schedule '{cfg.schedule.name}' ({len(groups)} models)")
        if len(groups) <= 12:
            ax.legend(fontsize=7)
        fig.savefig(out, dpi=110, bbox_inches="tight")
        console.print(f"plot: {escape(str(out))}")


@app.command("lr-find")
def lr_find_cmd(
    config: Annotated[Path, typer.Argument(help="YAML config")],
    set_: Sets = None,
    start_lr: Annotated[float, typer.Option(help="first LR")] = 1e-7,
    end_lr: Annotated[float, typer.Option(help="last LR")] = 10.0,
    steps: Annotated[int, typer.Option(help="number of steps (one batch each)")] = 100,
    population: Annotated[
        int, typer.Option(help="instead: train N models at N log-spaced fixed LRs")
    ] = 0,
    epochs: Annotated[int, typer.Option(help="epochs of the --population variant")] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    out: Annotated[Path, typer.Option(help="PNG of the curve")] = Path("lr_find.png"),
) -> None:
    """LR range test (Smith 2017): loss against an exponentially growing LR; suggests an LR."""
    from ..config import load_config
    from ..optim.lr_find import log_spaced, lr_find, lr_sweep

    cfg = load_config(config, list(set_ or []))
    out = _png(out)
    if population:
        if population < 2:
            raise typer.BadParameter("--population needs at least 2 models")
        res = lr_sweep(cfg, log_spaced(start_lr, end_lr, population), epochs=epochs, device=device)
        table = Table(title=f"{population} models at fixed LRs, {epochs} epoch(s)")
        for c in ("lr", "train_loss", "val_loss"):
            table.add_column(c, justify="right")
        for lr, tl, vl in zip(res.lrs, res.train_loss, res.val_loss, strict=True):
            table.add_row(f"{lr:.3g}", f"{tl:.4g}", f"{vl:.4g}")
        console.print(table)
        console.print(f"best validation loss at lr {res.best_lr:.3g}")
        res.plot().savefig(out, dpi=110, bbox_inches="tight")
    else:
        res = lr_find(cfg, start_lr=start_lr, end_lr=end_lr, num_steps=steps, device=device)
        table = Table(title="LR range test")
        for c in ("model", "steep", "min/10", "stopped"):
            table.add_column(c, justify="left" if c in ("model", "stopped") else "right")
        for g, sug, why in zip(res.groups, res.suggestions, res.stop_reasons, strict=True):
            table.add_row(g, _fmt(sug["steep"]), _fmt(sug["min/10"]), why)
        console.print(table)
        console.print(f"suggested lr (steepest smoothed descent): {_fmt(res.suggestion)}")
        res.plot().savefig(out, dpi=110, bbox_inches="tight")
    console.print(f"plot: {escape(str(out))}")


def _png(out: Path) -> Path:
    """``out``, with ``.png`` added when it has no suffix (as matplotlib's savefig does), its
    folder created; a format matplotlib cannot write or a folder that cannot be made is a
    UserError, raised before any training."""
    from matplotlib.backend_bases import FigureCanvasBase

    from ..runs import make_folder

    out = out if out.suffix else out.with_name(out.name + ".png")
    formats = FigureCanvasBase.get_supported_filetypes()
    if out.suffix[1:].lower() not in formats:
        raise UserError(
            f"--out {out}: matplotlib cannot write '{out.suffix}' files; "
            f"end the name with one of: {', '.join('.' + f for f in sorted(formats))}"
        )
    make_folder(out.parent)
    return out


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"
