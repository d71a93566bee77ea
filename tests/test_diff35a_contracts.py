"""Review (diff35a): the last-epoch judging that `trainlab resume` redoes on a no-split run whose
train.epochs was lowered to an epoch already reached (Trainer._judge_end_again, 563bd80)."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import trainlab

# digits with no val/test split, batch 200 -> 9 steps per epoch; model 1's `step` schedule
# multiplies only step 17's lr by 1e30: that update (the last of epoch 2) makes its forward
# overflow, so its train_eval_loss at epoch 2 is NaN (as in test_killnoval34_contracts).


def _config(epochs: int) -> dict:
    return {
        "name": "t",
        "data": {"name": "digits", "val_fraction": 0, "test_fraction": 0},
        "model": {"name": "mlp", "hidden": [16]},
        "optim": {"name": "sgd", "lr": 0.1},
        "schedule": {"name": "step", "step_size": 17, "gamma": 1.0, "interval": "step"},
        "train": {"epochs": epochs, "batch_size": 200},
        "population": {"seeds": [0], "variants": [{}, {"schedule.gamma": 1e30}]},
    }


class _Killed(BaseException):
    """Stands for a SIGKILL right after a checkpoint was saved."""


def _strict_rows(path: Path) -> list[dict]:
    def refuse(token: str) -> float:
        raise AssertionError(f"non-standard JSON token {token} in {path.name}")

    rows = [json.loads(line, parse_constant=refuse) for line in path.read_text().splitlines()]
    for r in rows:
        r.pop("time", None)
    return rows


# Wrong: `_resume` judges the reached last epoch in `_judge_end_again` and writes its
# `train_eval_loss` into the kept rows, which `RunDir.rewrite_jsonl` dumps with plain
# `json.dumps` (allow_nan default): model 1's non-finite loss lands in metrics.jsonl as the
# token `NaN`, which is not JSON (a strict reader, jq or a browser's JSON.parse refuses the
# line). Every other writer of metrics.jsonl (`append_jsonl`, docs: "NaN/Inf become null")
# writes null, and the uninterrupted 2-epoch run has `"train_eval_loss": null` there: the
# resumed run's rows must equal it. Fix: make rewrite_jsonl write through to_jsonable /
# allow_nan=False as append_jsonl does (or store None for a non-finite judged loss).
def test_resume_to_a_reached_epoch_writes_a_nonfinite_train_eval_loss_as_null(
    tmp_path, monkeypatch
):
    from trainlab import runs

    save = runs.RunDir.save_checkpoint

    def killed_after_epoch_2(self, state):
        save(self, state)
        if state["epoch"] == 2:
            raise _Killed

    monkeypatch.setattr(runs.RunDir, "save_checkpoint", killed_after_epoch_2)
    run = tmp_path / "cut"
    with contextlib.suppress(_Killed):
        trainlab.train(_config(3), out=run, device="cpu", progress=False)
    monkeypatch.setattr(runs.RunDir, "save_checkpoint", save)
    cfg = run / "config.yaml"
    cfg.write_text(cfg.read_text().replace("  epochs: 3\n", "  epochs: 2\n"))
    resumed = trainlab.resume(run, device="cpu", progress=False, on_note=lambda _: None)
    assert resumed.summary["models"][1]["status"] == "nan"

    fresh = tmp_path / "fresh"
    trainlab.train(_config(2), out=fresh, device="cpu", progress=False)
    fresh_rows = _strict_rows(fresh / "metrics.jsonl")
    assert [r["train_eval_loss"] for r in fresh_rows if r["epoch"] == 2][1] is None
    assert math.isfinite([r["train_eval_loss"] for r in fresh_rows if r["epoch"] == 2][0])
    assert _strict_rows(run / "metrics.jsonl") == fresh_rows
