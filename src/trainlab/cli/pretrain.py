"""``trainlab pretrain CONFIG``: RBMs (a population over seeds x grid), DBN or stacked DAE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import reporting
from .app import Sets, app, console, escape, home

__all__ = ["pretrain_cmd"]


@app.command("pretrain")
def pretrain_cmd(
    config: Annotated[
        Path | None,
        typer.Argument(help="YAML pre-training config (default: RBM on digits)", callback=home),
    ] = None,
    set_: Sets = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            metavar="KEY=V1,V2",
            help="population axis, e.g. learning_rate=0.01,0.06 (repeatable)",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="run directory (must be new)", callback=home)
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda")] = None,
) -> None:
    """Pre-train RBMs / a DBN / a stacked denoising autoencoder and write a report."""
    from ..pretrain.run import parse_grid, run_pretrain

    path = run_pretrain(
        config, out=out, grid=parse_grid(grid), device=device, sets=set_, progress=True
    )
    with reporting(path):  # (complete: an interrupt says where its report is)
        diverged = json.loads((path / "summary.json").read_text()).get("diverged", [])
        if diverged:
            shown = ", ".join(map(str, diverged[:10])) + (", …" if len(diverged) > 10 else "")
            console.print(
                f"[red]{len(diverged)} model(s) diverged (inf/NaN weights or training error): "
                f"{shown}[/]; lower their learning_rate (summary.json lists them under "
                "'diverged')"
            )
        console.print(
            f"run directory: {escape(str(path))}  (report: {escape(str(path / 'report.html'))})"
        )
