"""Review (killnoval34): the last-epoch pass over the training split of a run with neither a val
nor a test split (`train_eval_loss`, `_judged_on_train`), across resume with an edited
train.epochs."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import trainlab

# digits with no val/test split: 1797 training samples, batch 200 -> 9 steps per epoch.
# Model 1's `step` schedule (interval "step", step_size 26, gamma 1e30) multiplies only step
# 26's lr by 1e30: that update (the last of epoch 3) makes the model's forward overflow, while
# models 0 and 2 train normally.
SPE = 9


def _config(epochs: int) -> dict:
    return {
        "name": "t",
        "data": {"name": "digits", "val_fraction": 0, "test_fraction": 0},
        "model": {"name": "mlp", "hidden": [16]},
        "optim": {"name": "sgd", "lr": 0.1},
        "schedule": {"name": "step", "step_size": 26, "gamma": 1.0, "interval": "step"},
        "train": {"epochs": epochs, "batch_size": 200},
        "population": {
            "seeds": [0],
            "variants": [{}, {"schedule.gamma": 1e30}, {"optim.lr": 0.05}],
        },
    }


def _rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("time", None)
    return rows


def _set_epochs(run: Path, old: int, new: int) -> None:
    cfg = run / "config.yaml"
    text = cfg.read_text()
    assert f"  epochs: {old}\n" in text
    cfg.write_text(text.replace(f"  epochs: {old}\n", f"  epochs: {new}\n"))


# Wrong: train.py `_judged_on_train` adds `train_eval_loss` to the rows of the epoch that was the
# run's last when it ran; `trainlab resume` of the finished run with train.epochs raised (the
# README: "to train a finished run longer"; "raising ... train.epochs ... and `trainlab resume`
# gives the full run") keeps those rows as they are, so the longer run's metrics.jsonl has a
# `train_eval_loss` in a middle epoch (epoch 3 of 5), which docs/ARCHITECTURE.md reserves for
# "the last epoch's rows", and which the same uninterrupted 5-epoch run does not have. Expected:
# the resumed longer run's rows equal the fresh longer run's (the weights already do: the step
# schedule does not depend on the run's length).
def test_resume_with_more_epochs_has_no_train_eval_loss_in_a_middle_epoch(tmp_path):
    short, fresh = tmp_path / "short", tmp_path / "fresh"
    trainlab.train(_config(3), out=short, device="cpu", progress=False)
    _set_epochs(short, 3, 5)
    trainlab.resume(short, device="cpu", progress=False, on_note=lambda _: None)
    trainlab.train(_config(5), out=fresh, device="cpu", progress=False)

    resumed_rows, fresh_rows = _rows(short), _rows(fresh)
    middle = [r for r in resumed_rows if r["epoch"] < 5 and "train_eval_loss" in r]
    assert middle == []  # only the run's last epoch is judged on the training split
    assert resumed_rows == fresh_rows


class _Killed(BaseException):
    """Stands for a SIGKILL: what the run folder holds at that moment is kept as it is."""


# Wrong: a no-split run's middle epochs are not judged (no evaluation pass), so when
# `trainlab resume` is given a lower train.epochs that the checkpoint has already reached
# (allowed: the note says "training ends at epoch 3, already reached"), `_fit` trains nothing
# and writes summary.json without the last-epoch pass over the training split: model 1, whose
# last update (step 26) made its forward overflow, is reported status "ok" with finite `final`
# numbers and counted in the aggregates. The same 3-epoch run trained straight (identical
# weights: the step schedule does not depend on the run's length) reports it "nan", stopped
# at step 27 by evaluation. With a val split the same resume is judged (every epoch is
# evaluated); expected here too: the model is stopped, as the fresh 3-epoch run stops it.
def test_resume_to_a_reached_epoch_judges_the_last_update_on_train(tmp_path, monkeypatch):
    from trainlab import runs

    save = runs.RunDir.save_checkpoint
    saved = []

    def killed_after_epoch_3(self, state):  # the 5-epoch run dies right after epoch 3's checkpoint
        save(self, state)
        saved.append(state["epoch"])
        if state["epoch"] == 3:
            raise _Killed

    monkeypatch.setattr(runs.RunDir, "save_checkpoint", killed_after_epoch_3)
    run = tmp_path / "cut"
    with contextlib.suppress(_Killed):
        trainlab.train(_config(5), out=run, device="cpu", progress=False)
    monkeypatch.setattr(runs.RunDir, "save_checkpoint", save)
    assert saved == [1, 2, 3]
    _set_epochs(run, 5, 3)
    resumed = trainlab.resume(run, device="cpu", progress=False, on_note=lambda _: None)

    fresh = trainlab.train(_config(3), out=tmp_path / "fresh3", device="cpu", progress=False)
    assert fresh.summary["models"][1]["status"] == "nan"  # (the reference, as it is today)
    model = resumed.summary["models"][1]
    assert model["status"] == "nan"
    assert model["stopped_step"] == 3 * SPE
    assert [m["index"] for m in resumed.summary["nan_models"]] == [1]
