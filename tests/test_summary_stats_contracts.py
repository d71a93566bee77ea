"""Review of run summaries, aggregates and early stopping: what still fails.

Checked and fine (no test here): ``aggregate`` against numpy/scipy for n = 1, 2, 3, 5, 30
(ddof = 1, Student-t half-width, n = 1 without a CI); early stopping's patience (brute force
over metrics.jsonl for P = 1, 2, 3 on val_loss and val_acc); an early-stopped model's final
metrics equal its stop epoch's row and a re-evaluation of ``result.model(i)``; stopped weights
frozen in stacked, vmap and loop modes with SGD momentum + weight decay, AdamW amsgrad and
centered RMSprop; resume after 1, 2, 3 checkpoints gives the uninterrupted summary.json;
per-model schedule values split groups; report tables equal summary.json.
"""

from __future__ import annotations

import json
import shutil
import statistics

import pytest

from conftest import assert_user_error, run_cli, small_config
from trainlab.report import aggregate
from trainlab.train import train


@pytest.mark.parametrize(
    "values",
    [
        [1e160, 3e160, 2e160],  # the squared deviations overflow a float
        [1.5e308, 1.7e308],  # the sum overflows a float, the mean does not
    ],
    ids=["squares-overflow", "sum-overflows"],
)
def test_aggregate_summarizes_large_finite_values_without_crashing(values):
    """``aggregate`` promises to summarize any numbers, leaving out only None, NaN and ±Inf
    (its docstring); finite values must give their mean, sample std and Student-t interval.
    Values above ~1.3e154 make ``(x - mean) ** 2`` raise ``OverflowError`` in Python (float
    ``**`` raises instead of giving inf), and values near the float maximum make ``math.fsum``
    raise "intermediate overflow": a diverged float64 metric (e.g. the optimizer study's
    full-batch softmax-regression losses, which it aggregates) crashes the whole report or
    study with a traceback. The reference is :mod:`statistics`, which computes exactly."""
    from scipy.stats import t

    a = aggregate(values)
    n = len(values)
    assert a["n"] == n
    assert a["mean"] == pytest.approx(statistics.mean(values), rel=1e-12)
    sd = statistics.stdev(values)
    assert a["std"] == pytest.approx(sd, rel=1e-9)
    assert a["ci95"] == pytest.approx(float(t.ppf(0.975, n - 1)) * sd / n**0.5, rel=1e-9)


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """Two seeds, patience 1 at a large lr: at least one early-stopped model."""
    out = tmp_path_factory.mktemp("es") / "run"
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.8, "momentum": 0.9},
        train={"epochs": 4, "early_stopping_patience": 1},
        population={"seeds": [0, 1]},
    )
    res = train(cfg, out=out, progress=False, device="cpu")
    assert any(m["status"] == "early_stopped" for m in res.summary["models"])
    return out


def _damage_epochs(s):
    s["epochs"] = "ten"


def _damage_stopped_step(s):
    m = next(m for m in s["models"] if m["status"] == "early_stopped")
    m["stopped_step"] = str(m["stopped_step"])  # a number written as text by another tool


@pytest.mark.parametrize(
    "damage", [_damage_epochs, _damage_stopped_step], ids=["epochs-text", "stopped_step-text"]
)
def test_report_of_a_summary_with_a_non_numeric_field_is_one_line_naming_it(
    stopped_run, tmp_path, monkeypatch, capsys, damage
):
    """``trainlab.report.rundata`` promises "Every problem with a file becomes a UserError
    that names the file and the fix", and the CLI that a user error is one line with exit 2.
    A summary.json (hand-edited, or rewritten by a user's script) whose ``epochs`` is not a
    whole number, or whose early-stopped model's ``stopped_step`` is a string, passes
    ``read_run``'s checks and then crashes ``trainlab report DIR`` with a ValueError
    (``int('ten')`` in ``RunData.planned_epochs``) or TypeError (``float <= str`` in
    ``RunData.plot_curves``) traceback that never names summary.json."""
    run = tmp_path / "run"
    shutil.copytree(stopped_run, run)
    path = run / "summary.json"
    s = json.loads(path.read_text())
    damage(s)
    path.write_text(json.dumps(s))
    try:
        code, _, err = run_cli(monkeypatch, capsys, "report", run)
    except Exception as exc:  # what the shell shows as a traceback
        pytest.fail(f"trainlab report crashed with a traceback: {type(exc).__name__}: {exc}")
    assert_user_error(code, err, "summary.json")


def test_report_of_a_population_file_with_damaged_dataset_sizes_is_one_line(
    stopped_run, tmp_path, monkeypatch, capsys
):
    """A ``population.json`` whose ``custom_dataset.sizes`` is not a list of integers crashed
    the report header with ``TypeError: 'int' object is not iterable``; it is one line naming
    the file."""
    run = tmp_path / "run"
    shutil.copytree(stopped_run, run)
    path = run / "population.json"
    p = json.loads(path.read_text())
    p["custom_dataset"] = {"name": "arrays", "sizes": 5}
    path.write_text(json.dumps(p))
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert_user_error(code, err, "population.json")
