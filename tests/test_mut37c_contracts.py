"""Mutation review mut37c: trainlab.report.rundata (reading a run directory) and
trainlab.report.tables (group/model/diagnostics tables, number formatting).

Run directories are written by hand under tmp_path, in the layout of README's "Run directory"
section (population.json, metrics.jsonl, summary.json, config.yaml, diagnostics.jsonl). Each
test names the mutant it kills; expected values come from the README, the docstrings, Python's
own format spec or a hand computation, never from running trainlab.
"""

from __future__ import annotations

import json

import pytest

from trainlab.errors import UserError
from trainlab.report.rundata import num, read_jsonl, read_run
from trainlab.report.tables import (
    diagnostics_table,
    fmt,
    fmt_fixed,
    fmt_mean_std,
    group_table,
    has_test_split,
    model_table,
    nan_flags,
    shown_split,
)


def _run(tmp_path, models, rows, *, summary=None, sizes=(100, 20, 20), config=None, diag=None):
    """A hand-made run directory: ``models`` are population.json entries, ``rows`` the
    metrics.jsonl records, ``summary`` summary.json (None: a killed run)."""
    d = tmp_path / "run"
    d.mkdir()
    pop = {"k": len(models), "models": models}
    if sizes is not None:
        pop["data_fingerprint"] = {"sizes": list(sizes)}
    (d / "population.json").write_text(json.dumps(pop))
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if summary is not None:
        (d / "summary.json").write_text(json.dumps(summary))
    if config is not None:
        (d / "config.yaml").write_text(config)
    if diag is not None:
        (d / "diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in diag))
    return read_run(d)


def _m(i, seed=None, group="default", **extra):
    return {
        "index": i,
        "seed": i if seed is None else seed,
        "overrides": {},
        "group": group,
        **extra,
    }


def _row(model, epoch, step, **vals):
    base = {
        "model": model,
        "epoch": epoch,
        "step": step,
        "train_loss": 1.0,
        "train_acc": 0.5,
        "val_loss": 1.0,
        "val_acc": 0.5,
        "test_loss": 1.0,
        "test_acc": 0.5,
        "lr": 0.1,
        "grad_norm": 1.0,
    }
    base.update(vals)
    return base


def _final(**vals):
    base = dict.fromkeys(
        ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
    )
    base.update(vals)
    return base


# ---------------------------------------------------------------- fmt (tables.py:32-52)


# Kills tables.py:49 `abs(f) >= 1e5` -> `abs(f) > 1e5` and `abs(f) < 1e-3` -> `<= 1e-3`:
# fmt switches to scientific at the same documented bounds as fmt_fixed, [1e-3, 1e5).
# Python's format spec: f"{1e5:.3e}" == "1.000e+05", f"{0.001:.4g}" == "0.001".
def test_fmt_scientific_bounds_match_fmt_fixed():
    assert fmt(100000.0) == "1.000e+05"
    assert fmt(0.001) == "0.001"
    assert fmt(0.000999) == "9.990e-04"


# Kills tables.py:50 `digits - 1` -> `digits`: "floats to ``digits`` significant digits" - a
# mantissa with digits - 1 decimals. 123456.0 to 4 significant digits is 1.235e+05.
def test_fmt_scientific_has_digits_significant_digits():
    assert fmt(123456.0) == "1.235e+05"
    assert fmt(123456.0, digits=2) == "1.2e+05"


# Kills tables.py:43 dropping `return str(x)` for ints: an integer cell (a seed, a count, a
# step) is written as the integer, not rounded to 4 significant digits.
def test_fmt_writes_integers_whole():
    assert fmt(12345) == "12345"
    assert fmt(1234567) == "1234567"
    assert fmt(True) == "True"


# Kills tables.py:46 `return "nan"` -> `return "—"`: fmt_fixed's docstring: "None/NaN as
# —/nan" (a NaN is said, not shown as missing), and fmt_fixed hands both to fmt.
def test_nan_is_written_nan_and_none_a_dash():
    assert fmt_fixed(float("nan")) == "nan"
    assert fmt(float("nan")) == "nan"
    assert fmt_fixed(None) == "—"
    assert fmt(float("-inf")) == "-inf"


# Kills tables.py:71 `a["n"] == 1 or ...` dropped: fmt_mean_std's docstring: "the mean alone
# for n = 1" (aggregate gives std 0.0 there, which is no measured spread).
def test_fmt_mean_std_of_one_seed_is_the_mean_alone():
    assert fmt_mean_std({"mean": 0.5, "std": 0.0, "ci95": None, "n": 1}) == "0.5000"
    assert fmt_mean_std({"mean": 0.5, "std": 0.25, "ci95": 1.0, "n": 2}) == "0.5000 ± 0.2500"
    assert fmt_mean_std({"mean": None, "std": None, "ci95": None, "n": 0}) == "—"


# ---------------------------------------------------------------- split choice


# Kills tables.py:126 `frac > 0` -> `frac >= 0`: README/docstring: a run with
# ``data.test_fraction: 0`` has no test split. A killed run with no rows and no recorded sizes
# falls back to the config.
def test_config_test_fraction_zero_means_no_test_split(tmp_path):
    run = _run(
        tmp_path,
        [_m(0)],
        [],
        sizes=None,
        config="data:\n  name: digits\n  test_fraction: 0\n  val_fraction: 0.2\n",
    )
    assert has_test_split(run) is False
    assert shown_split(run) == "val"


# Kills tables.py:121 dropping `r.get("status") != "nan"`: docstring: "whether some model not
# stopped for NaN/Inf has a test number". A NaN model's test number does not make a split.
def test_nan_models_test_number_does_not_make_a_test_split(tmp_path):
    summary = {
        "epochs": 1,
        "models": [
            {
                "index": 0,
                "seed": 0,
                "status": "nan",
                "stopped_step": 3,
                "final": _final(
                    train_loss=1.0, val_loss=1.0, val_acc=0.5, test_loss=1.0, test_acc=0.5
                ),
            },
            {
                "index": 1,
                "seed": 1,
                "status": "ok",
                "stopped_step": None,
                "final": _final(train_loss=1.0, val_loss=0.8, val_acc=0.6),
            },
        ],
    }
    rows = [
        _row(0, 1, 5, train_loss=None, train_acc=None),
        _row(1, 1, 5, test_loss=None, test_acc=None),
    ]
    run = _run(tmp_path, [_m(0), _m(1)], rows, summary=summary, sizes=None)
    assert has_test_split(run) is False


# Kills tables.py:139 `"val" if has_val_split(run) else "train"` -> `"val"` and tables.py:170
# dropping the train_acc column: README: "a run with neither split shows its training
# numbers".
def test_run_without_heldout_splits_shows_training_numbers(tmp_path):
    summary = {
        "epochs": 1,
        "models": [
            {
                "index": i,
                "seed": i,
                "status": "ok",
                "stopped_step": None,
                "final": _final(train_loss=0.5 + i, train_acc=0.25 * (i + 1)),
            }
            for i in range(2)
        ],
    }
    rows = [
        _row(
            i,
            1,
            5,
            train_loss=0.5 + i,
            train_acc=0.25 * (i + 1),
            val_loss=None,
            val_acc=None,
            test_loss=None,
            test_acc=None,
        )
        for i in range(2)
    ]
    run = _run(tmp_path, [_m(0), _m(1)], rows, summary=summary, sizes=(100, 0, 0))
    assert shown_split(run) == "train"
    cols, grows = group_table(run)
    assert cols[3] == "train_acc mean ± std"
    # mean of 0.25 and 0.5 = 0.375; ddof-1 std = 0.25/sqrt(2) = 0.1768
    assert grows[0][3] == "0.3750 ± 0.1768"
    mcols, mrows = model_table(run)
    assert "train_acc" in mcols
    assert mrows[1][mcols.index("train_acc")] == "0.5000"


# Kills tables.py:159 `r["status"] == "nan"` -> `!= "ok"`: the column is "stopped
# (NaN/Inf)"; an early-stopped model is not counted there (it stays in the statistics).
def test_group_stopped_column_counts_only_nan_models(tmp_path):
    summary = {
        "epochs": 2,
        "models": [
            {
                "index": 0,
                "seed": 0,
                "status": "early_stopped",
                "stopped_step": 5,
                "final": _final(
                    train_loss=1.0, val_loss=1.0, val_acc=0.2, test_loss=1.0, test_acc=0.2
                ),
            },
            {
                "index": 1,
                "seed": 1,
                "status": "ok",
                "stopped_step": None,
                "final": _final(
                    train_loss=1.0, val_loss=1.0, val_acc=0.4, test_loss=1.0, test_acc=0.4
                ),
            },
            {
                "index": 2,
                "seed": 2,
                "status": "nan",
                "stopped_step": 7,
                "final": _final(
                    train_loss=1.0, val_loss=1.0, val_acc=0.9, test_loss=1.0, test_acc=0.9
                ),
            },
        ],
    }
    rows = [_row(i, e, 5 * e) for i in range(3) for e in (1, 2)]
    run = _run(tmp_path, [_m(0), _m(1), _m(2)], rows, summary=summary)
    cols, grows = group_table(run)
    row = dict(zip(cols, grows[0], strict=True))
    assert row["models"] == 3
    assert row["stopped (NaN/Inf)"] == 1
    assert row["test_acc n"] == 2
    assert row["test_acc mean ± std"].startswith("0.3000 ± ")


# ---------------------------------------------------------------- killed runs


# Kills tables.py:176 `by = "by " if run.summary is None ...` -> `by = ""` and tables.py:202
# dropping the "by step" wording: before summary.json only the failing epoch's last step is
# known ("only the epoch's last step is known before the summary").
def test_killed_run_nan_step_is_said_as_by_step(tmp_path):
    rows = [
        _row(0, 1, 10),
        _row(0, 2, 20, train_loss=float("nan"), train_acc=None),
        _row(1, 1, 10),
        _row(1, 2, 20),
    ]
    # (json.dumps writes NaN, which json.loads reads back)
    run = _run(tmp_path, [_m(0), _m(1)], rows)
    res = run.model_results()
    assert res[0]["status"] == "nan" and res[0]["stopped_step"] == 20
    assert nan_flags(run) == ["model 0 (seed 0): loss or gradient became NaN/Inf by step 20"]
    cols, mrows = model_table(run)
    assert mrows[0][3] == "nan (by step 20)"
    assert mrows[1][3] == "incomplete (2 epochs)"


# Kills rundata.py:485 dropping the grad_norm term of _failed: README: "A model whose loss or
# gradient becomes NaN/Inf is stopped and flagged". A killed run's row with a finite loss but
# an infinite gradient norm marks the model nan; its final metrics are the epoch before.
def test_killed_run_infinite_grad_norm_marks_the_model_nan(tmp_path):
    rows = [_row(0, 1, 10, val_acc=0.3), _row(0, 2, 20, grad_norm=float("inf"), val_acc=0.7)]
    run = _run(tmp_path, [_m(0)], rows)
    r = run.model_results()[0]
    assert r["status"] == "nan"
    assert r["final"]["val_acc"] == 0.3


# Kills rundata.py:165 num `math.isfinite` -> `not math.isnan` and dropping the bool check:
# num's docstring: "A finite float, or None (JSON null, NaN, Inf, ...)".
def test_num_is_finite_floats_only():
    assert num(float("inf")) is None
    assert num(float("-inf")) is None
    assert num(True) is None
    assert num("0.5") == 0.5
    assert num(3) == 3.0


# Kills rundata.py:399 `rows.index(bad) + by_eval` -> `rows.index(bad)` and rundata.py:464
# `any` -> `all`: README: a model whose evaluation (one split the run has) is not finite is
# stopped by evaluation, and its final metrics are that epoch's training numbers with its
# val/test ones null.
def test_killed_run_evaluation_stop_keeps_that_epochs_training_numbers(tmp_path):
    rows = [
        _row(0, 1, 10, train_loss=0.9),
        _row(0, 2, 20, train_loss=0.7, val_loss=None, val_acc=None, test_loss=1.5),
    ]
    run = _run(tmp_path, [_m(0)], rows, sizes=(100, 20, 20))
    r = run.model_results()[0]
    assert r["status"] == "nan"
    assert r.get("stopped_by") == "evaluation"
    assert r["final"]["train_loss"] == 0.7
    assert r["final"]["val_loss"] is None


# Kills rundata.py:372 `sizes[j] > 0` -> `>= 0`: a run without a validation split has null
# val numbers in every row; that is no failed evaluation.
def test_killed_run_without_val_split_is_not_an_evaluation_failure(tmp_path):
    rows = [_row(0, e, 10 * e, val_loss=None, val_acc=None) for e in (1, 2)]
    run = _run(tmp_path, [_m(0)], rows, sizes=(100, 0, 20))
    r = run.model_results()[0]
    assert r["status"] == "incomplete"
    assert r["stopped_step"] is None


# Kills rundata.py:447 sign flipped (`1.0 if metric == "val_loss"` -> `-1.0`): val_loss is
# lower-is-better (README: early stopping after P epochs without a better val_loss). A
# steadily falling val_loss with patience 1 never stops; a rise stops at that epoch.
def test_killed_run_early_stopping_replay_reads_val_loss_lower_is_better(tmp_path):
    cfg = "train:\n  epochs: 10\n  early_stopping_patience: 1\n"
    rows = [_row(0, e, 10 * e, val_loss=v) for e, v in ((1, 1.0), (2, 0.9), (3, 0.8))]
    rows += [_row(1, e, 10 * e, val_loss=v) for e, v in ((1, 1.0), (2, 0.9), (3, 0.95))]
    run = _run(tmp_path, [_m(0), _m(1)], rows, config=cfg)
    r0, r1 = run.model_results()
    assert r0["status"] == "incomplete"
    assert r1["status"] == "early_stopped"
    assert r1["stopped_step"] == 30


# Kills rundata.py:390 `s.get("status", "ok")` -> another default: summary models without a
# status are ok (README's statuses: ok, nan, early_stopped).
def test_summary_model_without_status_is_ok(tmp_path):
    summary = {"epochs": 1, "models": [{"index": 0, "seed": 0, "final": _final(test_acc=0.5)}]}
    run = _run(tmp_path, [_m(0)], [_row(0, 1, 5)], summary=summary)
    assert run.model_results()[0]["status"] == "ok"
    assert nan_flags(run) == []


# ---------------------------------------------------------------- curves


# Kills rundata.py:262 last-wins -> first-wins and rundata.py:263 dropping the sort: the
# docstring: "rows sorted by epoch (duplicates from a resume: last wins)".
def test_curves_are_sorted_by_epoch_and_a_resumed_duplicate_wins(tmp_path):
    rows = [
        _row(0, 2, 20, train_loss=0.5),
        _row(0, 1, 10, train_loss=0.9),
        _row(0, 2, 20, train_loss=0.4),
    ]
    run = _run(tmp_path, [_m(0)], rows)
    curve = run.curves()[0]
    assert [r["epoch"] for r in curve] == [1, 2]
    assert [r["train_loss"] for r in curve] == [0.9, 0.4]


# Kills rundata.py:278 `<= step` -> `< step`: an early-stopped model's stopped_step is "the
# step count at the end of its last epoch": that epoch's row is on its curve, later ones not.
def test_plot_curves_keep_the_early_stopped_models_last_epoch(tmp_path):
    summary = {
        "epochs": 3,
        "models": [
            {
                "index": 0,
                "seed": 0,
                "status": "early_stopped",
                "stopped_step": 20,
                "final": _final(test_acc=0.5),
            }
        ],
    }
    rows = [_row(0, e, 10 * e) for e in (1, 2, 3)]
    run = _run(tmp_path, [_m(0)], rows, summary=summary)
    assert [r["epoch"] for r in run.plot_curves()[0]] == [1, 2]


# ---------------------------------------------------------------- read_jsonl


# Kills rundata.py:129 dropping `and not line.endswith("\n")`: only a last line *without* its
# newline is a killed run's half-written append; a complete corrupt last line is an error.
def test_read_jsonl_corrupt_complete_last_line_is_an_error(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(UserError, match="line 2"):
        read_jsonl(p)
    p.write_text('{"a": 1}\n{"a": ')
    assert read_jsonl(p) == [{"a": 1}]


# ---------------------------------------------------------------- diagnostics table


def _diag(model, step, **vals):
    return {"model": model, "layer": "fc1", "step": step, **vals}


# Kills tables.py:235 `>=` -> `>`: of two records of one model and layer at the same step (a
# resume rewrote it), the later one is the one shown, as curves() keeps the last duplicate.
def test_diagnostics_table_takes_the_later_of_equal_step_records(tmp_path):
    rows = [_row(0, 1, 10)]
    diag = [_diag(0, 10, act_mean=1.0), _diag(0, 10, act_mean=2.0)]
    run = _run(tmp_path, [_m(0)], rows, diag=diag)
    cols, drows = diagnostics_table(run)
    assert drows[0][cols.index("act_mean")] == "2"


# Kills tables.py:269 `len(bad) == len(vals)` -> `bad` and tables.py:267 `any` -> `all`: a
# NaN/Inf seed is said with how many of the seeds; "nan" wins when NaN is among them.
def test_diagnostics_table_says_how_many_seeds_are_nonfinite(tmp_path):
    rows = [_row(i, 1, 10) for i in range(3)]
    diag = [
        _diag(0, 10, act_mean=float("nan"), act_std=1.0),
        _diag(1, 10, act_mean=float("inf"), act_std=float("inf")),
        _diag(2, 10, act_mean=0.5, act_std=3.0),
    ]
    run = _run(tmp_path, [_m(0), _m(1), _m(2)], rows, diag=diag)
    cols, drows = diagnostics_table(run)
    assert drows[0][cols.index("act_mean")] == "nan in 2 of 3"
    assert drows[0][cols.index("act_std")] == "inf in 1 of 3"
    assert drows[0][cols.index("models")] == 3


# Kills rundata.py:180 `str(g) if g else DEFAULT_GROUP` -> `str(g)`: group_label's docstring:
# the model's group, "or DEFAULT_GROUP" ("default") for a model without overrides.
def test_group_label_of_a_model_without_overrides_is_default():
    from trainlab.report.rundata import group_label

    assert group_label({"index": 0, "seed": 0, "overrides": {}}) == "default"
    assert group_label({"index": 0, "seed": 0}) == "default"
    assert group_label({"index": 0, "overrides": {"optim.lr": 0.1}}) == "optim.lr=0.1"


# Kills rundata.py:89 dropping the status type check: the module docstring: "Every problem
# with a file becomes a UserError that names the file"; a summary.json model whose status is
# not text is refused, not shown.
def test_summary_status_that_is_not_text_is_refused(tmp_path):
    summary = {
        "epochs": 1,
        "models": [{"index": 0, "seed": 0, "status": 3, "final": _final(test_acc=0.5)}],
    }
    with pytest.raises(UserError, match="summary.json.*status"):
        _run(tmp_path, [_m(0)], [_row(0, 1, 5)], summary=summary)
