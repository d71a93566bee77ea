"""Review html17: report.html and its figures as documents (user text inside matplotlib figures)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from trainlab.report import plots
from trainlab.report.rundata import read_run

LONG_GROUP = (
    "init.scheme=he_normal, init.mode=fan_out, optim.lr={lr}, optim.weight_decay=0.0005, "
    "optim.momentum=0.9, optim.nesterov=True, model.dropout=0.5"
)  # what a 7-key variant of a real run gets as its group label (143 characters)


def _run(tmp: Path, groups: list[str], layer: str | None = None) -> Path:
    """A finished 1-epoch run directory with one model per group (and diagnostics of `layer`)."""
    run = tmp / "run"
    run.mkdir()
    models, metrics, diags = [], [], []
    for i, g in enumerate(groups):
        models.append({"index": i, "seed": 0, "overrides": {"optim.lr": i}, "group": g})
        for e in (1, 2):
            metrics.append({"model": i, "epoch": e, "step": 7 * e, "train_loss": 2.3 - 0.1 * e - i,
                            "train_acc": 0.1 * e, "val_loss": 2.2 - 0.1 * e, "val_acc": 0.2,
                            "test_loss": 2.2, "test_acc": 0.2, "lr": 0.01 * (i + 1),
                            "grad_norm": 0.3 + i, "time": 0.1})  # fmt: skip
        if layer is not None:
            for step in (0, 5):
                diags.append({"model": i, "layer": layer, "step": step, "act_mean": 0.1,
                              "act_std": 0.2 + step, "grad_norm": 0.1,
                              "update_ratio": 1e-3})  # fmt: skip
    pop = {"k": len(groups), "models": models}
    summ = {"name": "r", "k": len(groups), "epochs": 2, "models": [
        {**m, "status": "ok", "stopped_step": None,
         "final": {k: v for k, v in metrics[2 * m["index"] + 1].items()
                   if k.endswith(("_loss", "_acc"))}} for m in models]}  # fmt: skip
    (run / "population.json").write_text(json.dumps(pop))
    (run / "summary.json").write_text(json.dumps(summ))
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in metrics))
    if diags:
        (run / "diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in diags))
    return run


# A layer name is user text (a ModuleDict key such as "$\foo$" or "cost$2$"): plots.py hands it to
# matplotlib as a legend label, which parses "$...$" as mathtext, so build_report (and
# `trainlab report`) dies with a mathtext ParseFatalException traceback (and "a$b$c" renders as
# math, silently mislabelled). Right: user labels are drawn literally ("$" escaped, or
# parse_math off), and the report builds.
def test_layer_name_with_dollar_signs_does_not_crash_the_report(tmp_path):
    run = _run(tmp_path, ["default"], layer=r"layers.$\foo$")
    fig = plots.diagnostics_figure(read_run(run), "act_std")
    fig.savefig(io.BytesIO(), format="png")  # draws the legend: raised ValueError (mathtext)


# A run whose variants override several keys (7 here, a 143-character group label) gets a legend
# wider than the figure: constrained layout collapses the panels (warning "axes sizes collapsed
# to zero"); in curves_dynamics.png the two panels shrink to ~0.6 in and their titles overlap.
# Right: long group labels are wrapped/shortened (or the legend placed below) so each panel keeps
# at least half its planned 4.4 in width.
@pytest.mark.parametrize("which", ["dynamics", "loss"])
def test_long_group_labels_do_not_squash_the_curve_panels(tmp_path, which):
    run = read_run(_run(tmp_path, [LONG_GROUP.format(lr=0.01), LONG_GROUP.format(lr=0.05)]))
    fig = plots.dynamics_figure(run) if which == "dynamics" else plots.curve_figure(run, "loss")
    fig.draw_without_rendering()
    widths = [ax.get_window_extent().width / fig.dpi for ax in fig.axes]
    assert min(widths) >= 2.2, f"panel widths {widths} in: squashed by the legend"
