"""``trainlab diagnose CONFIG``: a short training with diagnostics and a one-screen verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import Sets, app, console, escape, home, whole_number, with_seeds

__all__ = ["diagnose_cmd", "print_diagnose"]


@app.command("diagnose")
def diagnose_cmd(
    config: Annotated[Path, typer.Argument(help="YAML config (see examples/)", callback=home)],
    every: Annotated[
        str | None,
        typer.Option(
            metavar="<int>",
            help="sample one training step in N [default: 10, or --set train.diagnose_every]",
        ),
    ] = None,
    epochs: Annotated[
        str | None,
        typer.Option(
            metavar="<int>",
            help="epochs of the short training [default: 3, or --set train.epochs]",
        ),
    ] = None,
    seeds: Annotated[str | None, typer.Option(help="'0-9', '1,3,5' or a count '4'")] = None,
    set_: Sets = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda")] = "auto",
    out: Annotated[
        Path | None, typer.Option(help="run directory (must be new)", callback=home)
    ] = None,
    report: Annotated[bool, typer.Option(help="write report.html with the figures")] = True,
) -> None:
    """Train CONFIG briefly with per-layer diagnostics and print a health verdict.

    Checks: vanishing/exploding gradients, collapsing/exploding activations, saturated tanh/sigmoid, dying ReLU, update/weight ratio, NaN/Inf origin (thresholds: trainlab.diagnostics.verdict).

    Writes a run directory with diagnostics.jsonl, verdict.json and figures in report.html.
    """  # noqa: E501  (typer rewraps the help text; one line per paragraph)
    from ..config import keys_given
    from ..diagnostics.run import DEFAULT_EPOCHS, diagnose

    every_n, epochs_n = whole_number("--every", every), whole_number("--epochs", epochs)
    sets = with_seeds(set_, seeds)
    # an option wins over --set (a key inside a section's value too: --set train={epochs: 1})
    given = set(keys_given(set_))
    if epochs_n is None and "train.epochs" not in given:
        epochs_n = DEFAULT_EPOCHS  # (None: the value --set gives)
    if every_n is None and "train.diagnose_every" not in given:
        every_n = 10
    result = diagnose(
        config, out=out, every=every_n, epochs=epochs_n, sets=sets, device=device, report=report
    )
    print_diagnose(result)


def print_diagnose(result: Any) -> None:
    """The verdict table and where the files are, of a :class:`DiagnoseResult`."""
    from ..diagnostics import verdict_table

    console.print(
        verdict_table(result.findings, title=escape(f"training health: {result.run_dir.name}"))
    )
    console.print(f"diagnostics: {escape(str(result.run_dir / 'diagnostics.jsonl'))}")
    if result.report is not None:
        console.print(f"report: {escape(str(result.report))}")
    console.print(f"run directory: {escape(str(result.run_dir))}")
