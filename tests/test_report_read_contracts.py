"""Review of ``src/trainlab/report`` (reading run folders, statistics, tables, figures): a careful
read of the less-exercised branches, each finding proved by a failing test. The run folders
are written by hand (in the format the trainer writes) except where the trainer's own output
is the point."""

from __future__ import annotations

import json
import math
import shutil
import statistics

import numpy as np
import pytest

from conftest import run_cli
from trainlab.config import parse_config
from trainlab.report import aggregate


# ------------------------------------------------------------------ killed run, early stopping
@pytest.fixture(scope="module")
def early_stopped_run(tmp_path_factory):
    """A finished tiny run (4 seeds, constant SGD lr 1.5, early stopping with patience 1) in
    which some models stop early and at least one trains on after them."""
    from trainlab.train import train

    out = tmp_path_factory.mktemp("report_read_review") / "run"
    cfg = parse_config(
        {
            "name": "es",
            "model": {"name": "mlp", "hidden": [8]},
            "optim": {"name": "sgd", "lr": 1.5},
            "train": {"epochs": 6, "batch_size": 100, "early_stopping_patience": 1},
            "population": {"seeds": [0, 1, 2, 3]},
        }
    )
    train(cfg, out=out, device="cpu", progress=False)
    return out


def _lines(fig):
    """{(panel title, line label): (xs, ys)} of a figure's plotted lines."""
    out = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            xs = np.asarray(line.get_xdata(), dtype=float).tolist()
            ys = np.asarray(line.get_ydata(), dtype=float).tolist()
            out[(ax.get_title(), str(line.get_label()))] = (xs, ys)
    return out


def _upto(lines, last_epoch):
    return {
        k: (
            [x for x in xs if x <= last_epoch],
            [y for x, y in zip(xs, ys, strict=True) if x <= last_epoch],
        )
        for k, (xs, ys) in lines.items()
    }


def test_a_killed_run_with_early_stopped_models_draws_what_the_finished_run_draws(
    early_stopped_run, tmp_path
):
    """The report of a run must not depend on whether ``summary.json`` was written yet: the
    same metrics.jsonl rows, reported after a kill (the state a user runs ``trainlab report``
    on before ``trainlab resume``, or while the run goes on) and after the end, are the same
    training. The report already keeps this promise for NaN-stopped models
    (tests/test_report_today_contracts.py) but not for early-stopped ones: after an early stop
    the trainer keeps writing rows for the frozen model (``lr`` 0.0, the frozen model's
    losses), which the finished run's report cuts at ``stopped_step`` (``plot_curves``) while
    the killed run's report averages them in. So for a run killed one epoch after the first
    early stops, the "learning rate" panel of a constant-LR run (every model trained at 1.5)
    draws a group mean of 0.375 -- a rate no model trained with -- and the loss curves mix
    frozen models' numbers into the "mean over seeds". The stopping rule is in config.yaml
    (``early_stopping_patience``) and the validation history is in metrics.jsonl, so the
    report can tell where each model stopped without summary.json."""
    from trainlab.report import plots
    from trainlab.report.rundata import read_run

    summary = json.loads((early_stopped_run / "summary.json").read_text())
    rows = [json.loads(x) for x in (early_stopped_run / "metrics.jsonl").read_text().splitlines()]
    step_epoch = {r["step"]: r["epoch"] for r in rows}
    stops = [
        step_epoch[m["stopped_step"]]
        for m in summary["models"]
        if m["status"] == "early_stopped" and m["stopped_step"] < summary["steps"]
    ]
    assert stops, "precondition: some model stopped early before the run's end"
    killed_after = min(stops) + 1  # the kill comes one epoch after the first early stop
    assert killed_after <= summary["epochs"]

    killed = tmp_path / "killed"
    shutil.copytree(early_stopped_run, killed)
    (killed / "summary.json").unlink()
    (killed / "metrics.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows if r["epoch"] <= killed_after)
    )

    done, cut = read_run(early_stopped_run), read_run(killed)
    lr_cut = {k: v for k, v in _lines(plots.dynamics_figure(cut)).items() if "learning" in k[0]}
    assert all(y == pytest.approx(1.5) for _, ys in lr_cut.values() for y in ys), (
        f"a constant-lr-1.5 run's killed report draws learning rates {lr_cut}"
    )
    lr_done = {k: v for k, v in _lines(plots.dynamics_figure(done)).items() if "learning" in k[0]}
    assert lr_cut == _upto(lr_done, killed_after)
    assert _lines(plots.curve_figure(cut, "loss")) == _upto(
        _lines(plots.curve_figure(done, "loss")), killed_after
    ), "the killed run's loss curves average in the frozen rows of early-stopped models"


# ------------------------------------------------------------------------------- statistics
def test_aggregate_is_scale_equivariant_for_tiny_values_too():
    """``aggregate`` documents ``std = √(Σ(x − mean)² / (n − 1))`` and ``ci95 = t·std/√n``, and
    it already rescales huge values by a power of two so that the squares cannot overflow. Tiny
    values get no such care: for two different seeds with values 1e-170 and 3e-170 the squared
    deviations (1e-340) underflow to 0, so it returns ``std = 0.0`` and ``ci95 = 0.0`` -- a
    claim of *no* spread between two values that differ by a factor 3, which a Welch test or a
    report table then takes as infinitely precise. Such values are real in float64 work (a
    quadratically converging method's final loss, a float64 model's training loss on separable
    data). Multiplying the data by a power of two must multiply mean, std and ci95 by it
    exactly; ``statistics.stdev`` (exact arithmetic) is the reference."""
    xs = [1.0, 3.0, 2.5]
    tiny = [x * 2.0**-570 for x in xs]  # ~ 2.6e-172 .. 7.8e-172: normal float64 numbers
    a, b = aggregate(xs), aggregate(tiny)
    assert b["std"] == pytest.approx(statistics.stdev(tiny), rel=1e-12, abs=0), b
    assert b["std"] == pytest.approx(a["std"] * 2.0**-570, rel=1e-12, abs=0)
    assert b["ci95"] == pytest.approx(a["ci95"] * 2.0**-570, rel=1e-12, abs=0)
    assert aggregate([1e-170, 3e-170])["std"] == pytest.approx(
        math.sqrt(2) * 1e-170, rel=1e-12, abs=0
    )


# --------------------------------------------------------------------- damaged files, the CLI
def _run_folder(root, *, summary=None, config=None):
    """A one-model run folder as the trainer writes it (one epoch of metrics)."""
    root.mkdir(parents=True)
    models = [{"index": 0, "seed": 0, "overrides": {}, "group": "default"}]
    (root / "population.json").write_text(json.dumps({"k": 1, "models": models}))
    row = {"model": 0, "epoch": 1, "step": 10, "train_loss": 1.0, "train_acc": 0.5,
           "val_loss": 1.1, "val_acc": 0.4, "test_loss": 1.2, "test_acc": 0.4,
           "lr": 0.1, "grad_norm": 1.0, "time": 0.1}  # fmt: skip
    (root / "metrics.jsonl").write_text(json.dumps(row) + "\n")
    if config is not None:
        (root / "config.yaml").write_text(config)
    if summary is not None:
        (root / "summary.json").write_text(json.dumps(summary))
    return root


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            {"summary": {"name": "x", "epochs": 1, "models": None}}, id="summary-models-null"
        ),
        pytest.param({"config": "name: x\ntrain:\n  epochs: .inf\n"}, id="config-epochs-inf"),
        pytest.param({"config": "name: x\ntrain:\n  epochs: .nan\n"}, id="config-epochs-nan"),
    ],
)
def test_report_of_a_run_with_a_damaged_file_is_one_line_and_exit_2(
    monkeypatch, capsys, tmp_path, damage
):
    """rundata.py promises "Every problem with a file becomes a UserError that names the file
    and the fix", and the CLI contract (issue 3) is one clear line and exit status 2, no
    traceback. ``read_run`` checks summary.json's ``models`` only when it is not null, and
    then ``model_results`` iterates ``summary["models"]`` -> ``TypeError: 'NoneType' object is
    not iterable``; and ``RunData.planned_epochs`` (used by the header of every killed run's
    report) does ``int(e)`` on any float config.yaml gives for ``train.epochs``, so ``.inf``
    raises OverflowError and ``.nan`` ValueError. Each reaches the user as a Python traceback
    with exit status 1 instead of a line naming the damaged file. (A value the report can do
    without, the planned epochs, may instead be read as unknown: then the report is built.)"""
    run = _run_folder(tmp_path / "run", **damage)
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert "Traceback" not in err, err[-600:]
    if "config" in damage and code == 0:
        assert (run / "report.html").is_file()
        return
    assert code == 2, err[-600:]
    assert len(err.strip().splitlines()) <= 3, err
