"""Mutation review mut36g: metrics.jsonl's per-epoch numbers, summary.json's `epochs` and NaN
filter, checkpoint cadence, and resume's metrics bookkeeping, pinned against the README."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
import yaml

from conftest import small_config
from trainlab.errors import UserError
from trainlab.models import create
from trainlab.runs import RunDir
from trainlab.train import Trainer, resume, train


def _rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


# Kills train.py:840 `self._sum_loss / seen` -> `/ steps` (m10) and train.py:845
# `self._sum_gnorm / steps` -> `/ seen` (m11). README: "train_loss ... means over the epoch's
# samples (the training batches' losses before each step), grad_norm the mean over its steps".
# One full batch at lr 1e-30 (0 is refused): the epoch is one step over every training sample
# with the initial weights (an SGD update of ~1e-30 is below a float32 ulp of weights ~0.1, so
# the result's weights are still those), so train_loss is torch's mean
# cross-entropy over x_train and grad_norm the float32 global norm of its gradient, as
# torch.nn.utils.clip_grad_norm_ computes it. The mutants give n x / (1/n) x these.
def test_train_loss_and_grad_norm_are_per_sample_and_per_step_means(tmp_path):
    n = Trainer(small_config(), device="cpu").data.x_train.shape[0]
    cfg = small_config(
        optim={"name": "sgd", "lr": 1e-30},
        train={"epochs": 1, "batch_size": n},
    )
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    (row,) = _rows(tmp_path / "run")
    data = Trainer(cfg, device="cpu").data
    model = create("mlp", input_shape=data.input_shape, num_classes=10, hidden=[16])
    model.load_state_dict(result.population.member_state(0))
    loss = F.cross_entropy(model(data.x_train), data.y_train)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
    assert row["train_loss"] == pytest.approx(loss.item(), rel=1e-5)
    assert row["grad_norm"] == pytest.approx(norm.item(), rel=1e-4)


# README: "`lr` the rate of its last step". A step schedule (step_size 1 epoch, gamma 0.5) from
# lr 0.1 steps every batch of epoch e (1-based) at 0.1 * 0.5**(e - 1); a row logging the next
# step's rate (the first of epoch e + 1) would read 0.1 * 0.5**e.
def test_lr_of_a_row_is_the_rate_of_the_epochs_last_step(tmp_path):
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        schedule={"name": "step", "step_size": 1, "gamma": 0.5},
        train={"epochs": 3, "batch_size": 256},
    )
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    lrs = {r["epoch"]: r["lr"] for r in _rows(tmp_path / "run")}
    assert lrs == pytest.approx({1: 0.1, 2: 0.05, 3: 0.025})


def _nan_in_epoch_two(epochs, gammas):
    # per model a step schedule: epoch 1 at lr 0.01 for everyone, then gamma 1e30 blows up SGD
    return small_config(
        optim={"name": "sgd", "lr": 0.01},
        schedule={"name": "step", "step_size": 1, "gamma": gammas},
        population={"seeds": [0, 1]},
        train={"epochs": epochs, "batch_size": 256},
    )


# Kills train.py ~1229 `if r["status"] != "nan"` dropped from agg(). README: aggregates "leave
# out NaN-stopped models (`nan_models` lists them)". Model 1 goes NaN in epoch 2 (its lr jumps
# to 1e28), after an epoch whose final-able metrics were finite, so only the status filter can
# leave it out: the aggregate mean of each metric must be model 0's own final value.
def test_a_model_gone_nan_after_epoch_one_is_left_out_of_the_aggregates(tmp_path):
    cfg = _nan_in_epoch_two(3, [1.0, 1e30])
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    m0, m1 = s["models"]
    spe = math.ceil(Trainer(cfg, device="cpu").data.x_train.shape[0] / 256)
    assert m0["status"] == "ok" and m1["status"] == "nan"
    assert m1["stopped_step"] is not None and m1["stopped_step"] >= spe  # (in epoch 2 or later)
    assert all(v == v for v in m1["final"].values() if v is not None)  # finite: epoch 1's
    assert m1["final"]["val_loss"] != m0["final"]["val_loss"]
    for key in ("train_loss", "val_loss", "val_acc"):
        assert s["aggregates"][key]["mean"] == pytest.approx(m0["final"][key], rel=1e-12)
    assert result is not None


# Kills train.py:1240 summary `"epochs": self.epoch` -> the configured count (m16). README:
# "once every model has stopped the run ends there (`summary.json`'s `epochs` says how many
# ran)". Both models go NaN in epoch 2 of 5: two epochs ran, and metrics.jsonl ends there.
def test_summary_epochs_counts_the_epochs_run_not_the_configured(tmp_path):
    cfg = _nan_in_epoch_two(5, [1e30, 1e30])
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [m["status"] for m in s["models"]] == ["nan", "nan"]
    assert max(r["epoch"] for r in _rows(tmp_path / "run")) == 2
    assert s["epochs"] == 2


# Kills train.py:1125 `self.epoch % cfg.checkpoint_every` -> `(self.epoch + 1) % ...` (m7).
# `checkpoint_every: 2` of 5 epochs: a checkpoint after epochs 2 and 4 (every 2nd epoch ended),
# and the last one at the end (5); the mutant saves after 1 and 3.
def test_checkpoint_every_two_saves_after_epochs_two_four_and_the_end(tmp_path, monkeypatch):
    saved = []
    original = RunDir.save_checkpoint

    def record(self, state):
        saved.append(state["epoch"])
        return original(self, state)

    monkeypatch.setattr(RunDir, "save_checkpoint", record)
    cfg = small_config(train={"epochs": 5, "batch_size": 256, "checkpoint_every": 2})
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    assert saved == [2, 4, 5]


def _extend(run_dir, epochs):
    path = run_dir / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["train"]["epochs"] = epochs
    path.write_text(yaml.safe_dump(raw))


# Kills runs.py:417 kept_rows `<= last` -> `< last` (m15). README: a finished run may be
# trained longer by editing train.epochs and resuming. The checkpoint is at epoch 2, so the
# rows of epochs 1 and 2 are kept, and epoch 3 is appended: one row per (model, epoch).
def test_a_finished_run_trained_longer_keeps_its_last_epochs_rows(tmp_path):
    cfg = small_config(train={"epochs": 2, "batch_size": 256})
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    _extend(tmp_path / "run", 3)
    resume(tmp_path / "run", progress=False, device="cpu", on_note=lambda s: None)
    assert [r["epoch"] for r in _rows(tmp_path / "run")] == [1, 2, 3]


# Kills train.py:2044 _check_metrics_cover `range(1, epochs + 1)` -> `range(1, epochs)` (m14).
# metrics.jsonl lacking the checkpoint's own (last trained) epoch must be refused as it is for
# any other trained epoch: the resumed run would otherwise have no row for epoch 2.
def test_resume_refuses_metrics_lacking_the_checkpoints_last_epoch(tmp_path):
    cfg = small_config(train={"epochs": 2, "batch_size": 256})
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    path = tmp_path / "run" / "metrics.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    assert json.loads(lines[-1])["epoch"] == 2
    path.write_text("".join(lines[:-1]))
    _extend(tmp_path / "run", 3)
    with pytest.raises(UserError, match="epoch 2 of 2"):
        resume(tmp_path / "run", progress=False, device="cpu", on_note=lambda s: None)
