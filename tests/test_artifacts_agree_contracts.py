"""Review: the artifacts of one run must tell one story (summary.json, metrics.jsonl,
diagnostics.jsonl, report.html's tables and figures).

Checked and fine (no test here): ``trainlab train`` with a grid and with variants × NaN-stopped
and early-stopped models: summary.json's per-model ``final`` equals the metrics.jsonl row of the
epoch the model stopped at (early stop) or its last epoch; group mean/std/95% CI and n in
summary.json, the CLI's printed table and report.html's group table agree with each other and
with a recomputation from the per-model rows (NaN models left out, "0 of 3" in the CLI, ``—``
in the report); nan_models, the CLI's "stopped: loss or gradient became NaN/Inf at step N"
lines, the report's NaN list and its model table's ``nan (step N)`` name the same models and
steps; the header's epochs equal summary.json's epochs when every model stopped early; the last
progress line's val_acc equals the mean of the last epoch's val_acc over the models not
NaN-stopped;
``trainlab pretrain`` (RBM --grid with a diverging learning rate, DBN, SDAE): summary.json's
final numbers equal the last metrics.jsonl pass (first layer for stacks), the report's model and
grid tables equal summary.json; ``trainlab study clipping --quick --seeds 2``: the NaN counts,
NaN steps, epoch-1 gradient norms and test accuracies of its table equal its cells'
summary.json and metrics.jsonl.
"""

from __future__ import annotations

import math

import pytest

from conftest import small_config


@pytest.fixture(scope="module")
def diverging_grid_run(tmp_path_factory):
    """A run of 4 digits MLPs (seeds 0, 1 × SGD lr 0.1 and 1e6), early stopping with
    patience 1, diagnostics every 10 steps: the lr 1e6 models blow their weights up to ~1e21
    (finite) and are early-stopped; the lr 0.1 ones train on."""
    from trainlab.report import build_report
    from trainlab.train import train

    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        train={"epochs": 4, "batch_size": 64, "early_stopping_patience": 1,
               "diagnose_every": 10},
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.1, 1e6]}},
    )  # fmt: skip
    out = tmp_path_factory.mktemp("diverge") / "run"
    result = train(cfg, out=out, progress=False, device="cpu")
    build_report(out)
    return out, result.summary


def test_the_health_verdict_does_not_call_a_model_nan_that_the_trainer_never_stopped_for_nan(
    diverging_grid_run,
):
    """The report's health verdict ("nonfinite") must agree with the trainer about which
    models met NaN/Inf: the verdict's own text says it counts a non-finite gradient "as the
    trainer counts it". Here no model of the lr 1e6 group is NaN-stopped (summary.json:
    status ``early_stopped``, ``nan_models`` empty, every loss in metrics.jsonl finite, the
    report's banner "Run complete." and no "Models stopped for NaN/Inf" list), yet the verdict
    fails the run with "NaN/Inf first appears at step 50 in the backward pass of layer 'out'":
    it read a float32 overflow of the *norm* of ∂L/∂y at a ReLU (finite elements, squares
    beyond 3.4e38), a quantity the trainer never checks. A user told in red that NaN/Inf
    appeared goes hunting for a NaN that no other artifact of the run shows."""
    from trainlab.diagnostics.run import run_findings
    from trainlab.report.rundata import read_run

    out, summary = diverging_grid_run
    assert summary["nan_models"] == []
    assert all(m["status"] != "nan" for m in summary["models"])
    run = read_run(out)
    for row in run.metrics:
        for key in ("train_loss", "val_loss", "test_loss"):
            assert row[key] is not None and math.isfinite(row[key]), row
    findings = run_findings(run.diagnostics, {"models": run.model_results()})
    bad = [f for f in findings if f.check == "nonfinite" and f.status == "fail"]
    assert not bad, (
        "the verdict reports NaN/Inf for models the trainer did not stop for NaN/Inf: "
        + "; ".join(f"model {f.model}: {f.message}" for f in bad)
    )


def test_the_diagnostics_figure_does_not_average_away_an_infinite_seed_the_table_reports(
    diverging_grid_run,
):
    """The report shows per-layer diagnostics twice: the table "Per-layer statistics at the last
    recorded step" (``tables.diagnostics_table``: "a NaN/Inf seed is said, never averaged
    away", here ``inf in 1 of 2`` for act_std of layer fc1 of group optim.lr=1000000.0 at step
    50) and the figure diagnostics_act_std.png, whose lines are documented as "the mean over
    the group's seeds". The figure silently drops the infinite seed (``num`` turns inf into
    None) and plots the other seed's finite value as the group mean at step 50, so the figure
    shows a finite, ordinary activation std where the table, next to it, says it is infinite.
    The figure should mark the point (as it marks 0 with ▼) or leave it out, not draw one
    seed's value as the mean of two."""
    from trainlab.report import plots, tables
    from trainlab.report.rundata import read_run

    out, _ = diverging_grid_run
    run = read_run(out)
    cols, rows = tables.diagnostics_table(run)
    idx = cols.index("act_std")
    cell = {(r[0], r[1]): r for r in rows}[("optim.lr=1000000.0", "fc1")]
    assert str(cell[idx]).startswith("inf"), cell  # the table says: infinite in some seed
    step = cell[2]
    finite = [
        r["act_std"]
        for r in run.diagnostics
        if r["layer"] == "fc1"
        and r["step"] == step
        and run.model_results()[r["model"]]["group"] == "optim.lr=1000000.0"
        and isinstance(r.get("act_std"), float)
        and math.isfinite(r["act_std"])
    ]
    fig = plots.diagnostics_figure(run, "act_std")
    ax = next(a for a in fig.axes if a.get_title() == "optim.lr=1000000.0")
    plotted = [
        (x, y)
        for line in ax.get_lines()
        if line.get_label() == "fc1"
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        if x == step
    ]
    assert not any(
        math.isfinite(y) and any(math.isclose(y, v, rel_tol=1e-9) for v in finite)
        for _, y in plotted
    ), (
        f"the figure plots {plotted} as the group's mean act_std of fc1 at step {step}: only "
        f"the finite seed(s) {finite}, while the table says {cell[idx]!r}"
    )
