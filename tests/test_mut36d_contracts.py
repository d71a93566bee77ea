"""Review mut36d: early stopping's rule, metrics.jsonl bookkeeping, summary.json's stops and
aggregates, checked against hand computation from the rows and README's promises."""

import json
import math

import numpy as np
import pytest

from trainlab.config import parse_config
from trainlab.stopping import early_stopping_update
from trainlab.train import train


def _replay(values, patience):
    """README: a model stops after P epochs in a row without a better (strictly lower) value;
    returns the 1-based epoch it stops at, or None."""
    best, bad = math.inf, 0
    for epoch, v in enumerate(values, 1):
        if v < best:  # NaN compares False: never better
            best, bad = v, 0
        else:
            bad += 1
            if bad >= patience:
                return epoch
    return None


# Kills stopping.py:17 `value < best` -> `value <= best` (a tie is not "better": README/stopping
# docstring), stopping.py:19 `>= patience` -> `> patience` (P bad epochs stop, not P+1), and
# stopping.py:18 `return value, 0, False` -> keeping the count (a better value resets it).
# Expected values are worked by hand from the README rule.
def test_early_stopping_update_by_hand():
    best, bad = math.inf, 0
    seq = [1.0, 1.0, 0.5, 0.6, 0.7]  # tie, better (reset), worse, worse -> stop at the 5th
    got = []
    for v in seq:
        best, bad, stop = early_stopping_update(best, bad, v, 2)
        got.append((best, bad, stop))
    assert got == [
        (1.0, 0, False),
        (1.0, 1, False),
        (0.5, 0, False),
        (0.5, 1, False),
        (0.5, 2, True),
    ]
    # patience 1: the first non-better epoch stops; NaN is never better
    assert early_stopping_update(0.5, 0, math.nan, 1) == (0.5, 1, True)
    assert early_stopping_update(0.5, 0, 0.5, 1) == (0.5, 1, True)
    assert early_stopping_update(0.5, 0, 0.4, 1) == (0.4, 0, False)


def _cfg(epochs, **train):
    return parse_config(
        {
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [8]},
            "optim": {"name": "sgd", "lr": 0.05},
            "train": {"epochs": epochs, "batch_size": 256, **train},
            "population": {"seeds": [0, 1, 2]},
        }
    )


def _rows(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


# Kills train.py:857 epoch written 0-based (`self.epoch - 1`): ARCHITECTURE.md's rows are per
# (model, epoch) with `step` the steps done, so epoch e's row has step e * steps_per_epoch
# (ceil(n_train / batch) steps an epoch); summary's `epochs` is the number that ran. Also the
# lr column: README says `lr` is the rate of the epoch's last step (constant sgd: 0.05 exactly,
# logged in float64 "as applied"); and train_loss/grad_norm finite means.
def test_rows_epochs_steps_and_lr_by_hand(tmp_path):
    out = tmp_path / "run"
    res = train(_cfg(3), out=out, progress=False)
    rows = _rows(out)
    assert len(rows) == 3 * 3
    spe = {r["step"] // r["epoch"] for r in rows}
    assert len(spe) == 1
    spe = spe.pop()
    for r in rows:
        assert r["epoch"] in (1, 2, 3)
        assert r["step"] == r["epoch"] * spe
        assert r["lr"] == 0.05
    assert sorted({r["epoch"] for r in rows}) == [1, 2, 3]
    assert res.summary["epochs"] == 3
    assert res.summary["steps"] == 3 * spe


# Kills train.py:963 stopped_step set to the previous epoch's end, train.py:958 skipped models
# test, and stopping-rule mutants at trainer level: the stop epoch is replayed by hand from each
# model's val_loss rows (README rule), its stopped_step is that epoch's row `step`, the rows
# after it have lr 0, and `final` is that epoch's numbers (README: "keeps the weights of the
# epoch it stopped at ... its final metrics are that epoch's").
@pytest.mark.parametrize("metric", ["val_loss", "val_acc"])
def test_early_stop_epoch_replayed_from_rows(tmp_path, metric):
    out = tmp_path / "run"
    res = train(
        parse_config(
            {
                "data": {"name": "digits"},
                "model": {"name": "mlp", "hidden": [8]},
                "optim": {"name": "sgd", "lr": 2.0},  # large: the metric wobbles, stops come
                "train": {
                    "epochs": 8,
                    "batch_size": 256,
                    "early_stopping_patience": 2,
                    "early_stopping_metric": metric,
                },
                "population": {"seeds": [0, 1, 2, 3]},
            }
        ),
        out=out,
        progress=False,
    )
    rows = _rows(out)
    summary = res.summary
    stopped_any = False
    for m in summary["models"]:
        mine = sorted((r for r in rows if r["model"] == m["index"]), key=lambda r: r["epoch"])
        if m["status"] == "nan":
            continue
        sign = 1.0 if metric == "val_loss" else -1.0
        vals = [sign * r[metric] if r[metric] is not None else math.nan for r in mine]
        stop = _replay(vals, 2)
        if stop is None:
            assert m["status"] == "ok"
            assert m["stopped_step"] is None
            continue
        stopped_any = True
        assert m["status"] == "early_stopped"
        row = mine[stop - 1]
        assert m["stopped_step"] == row["step"]
        for k in ("train_loss", "val_loss", "val_acc"):
            assert m["final"][k] == row[k]
        for later in mine[stop:]:
            assert later["lr"] == 0
    assert stopped_any


# Kills train.py:1229 (NaN-stopped models counted in the aggregates) and any ddof change: README
# says aggregates are mean and std over the group's seeds (ARCHITECTURE/stats: sample std,
# ddof=1), leaving out NaN-stopped models; recomputed with numpy from the summary's finals.
def test_summary_aggregates_by_numpy(tmp_path):
    res = train(
        parse_config(
            {
                "data": {"name": "digits"},
                "model": {"name": "mlp", "hidden": [8]},
                "optim": {"name": "sgd", "lr": 0.05},
                "train": {"epochs": 2, "batch_size": 256},
                "population": {"seeds": [0, 1, 2], "grid": {"optim.lr": [0.05, 1e30]}},
            }
        ),
        out=tmp_path / "run",
        progress=False,
    )
    s = res.summary
    ok = [m for m in s["models"] if m["status"] != "nan"]
    assert any(m["status"] == "nan" for m in s["models"])
    vals = np.array([m["final"]["val_loss"] for m in ok])
    agg = s["aggregates"]["val_loss"]
    assert agg["n"] == len(ok)
    assert agg["mean"] == pytest.approx(vals.mean(), rel=1e-12)
    assert agg["std"] == pytest.approx(vals.std(ddof=1), rel=1e-9)
