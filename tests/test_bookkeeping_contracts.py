"""Contracts from a review of the trainer's bookkeeping at the edges of its counting (resume,
run directory)."""

from __future__ import annotations

import contextlib
import json

import yaml

from conftest import Killed, raise_in_second_epoch, small_config
from trainlab.errors import UserError
from trainlab.train import Trainer, resume, train


def _train_killed_in_second_epoch(monkeypatch, cfg, out) -> None:
    """``train(cfg, out=out)`` killed as its second epoch starts (the process dies: no handler
    runs, nothing more is written)."""
    real = raise_in_second_epoch(monkeypatch)
    with contextlib.suppress(Killed):
        train(cfg, out=out, progress=False, device="cpu")
    monkeypatch.setattr(Trainer, "train_epoch", real)


def test_resume_without_checkpoint_refuses_edited_config_or_records_it(tmp_path, monkeypatch):
    # Wrong: a run killed before its first checkpoint (checkpoint_every > epochs done) resumes
    # from scratch with an edited config.yaml without a word (README: "an edited config.yaml is
    # refused, naming the keys"), discarding the epochs in metrics.jsonl and leaving
    # population.json's per-model init record stale. Right: refuse the edit (UserError), or at
    # least keep population.json describing what was trained.
    cfg = small_config(
        init={"scheme": "xavier_uniform"},
        train={"epochs": 3, "checkpoint_every": 3},
    )
    out = tmp_path / "run"
    _train_killed_in_second_epoch(monkeypatch, cfg, out)
    assert not (out / "checkpoints" / "last.pt").exists()  # killed before any checkpoint
    path = out / "config.yaml"
    edited = yaml.safe_load(path.read_text())
    edited["init"]["scheme"] = "xavier_normal"
    edited["optim"]["lr"] = 0.5
    path.write_text(yaml.safe_dump(edited))
    try:
        resume(out, progress=False, device="cpu")
    except UserError:
        return  # refused: the right behaviour
    pop = json.loads((out / "population.json").read_text())
    assert pop["models"][0]["init"]["scheme"] == "xavier_normal", (
        "resume trained an edited config.yaml (init xavier_normal, lr 0.5) while "
        "population.json still records the original init"
    )


def test_resume_without_checkpoint_still_takes_a_longer_run(tmp_path, monkeypatch):
    # the config recorded in population.json refuses only what a checkpoint's would: a run
    # killed before its first checkpoint may still be given more epochs (and says since when)
    cfg = small_config(train={"epochs": 2, "checkpoint_every": 2})
    out = tmp_path / "run"
    _train_killed_in_second_epoch(monkeypatch, cfg, out)
    assert json.loads((out / "population.json").read_text())["config"]["train"]["epochs"] == 2
    path = out / "config.yaml"
    edited = yaml.safe_load(path.read_text())
    edited["train"]["epochs"] = 3
    path.write_text(yaml.safe_dump(edited))
    notes: list[str] = []
    result = resume(out, progress=False, device="cpu", on_note=notes.append)
    assert result.summary["models"][0]["final"]["train_loss"] is not None
    assert len(notes) == 1 and "since the run started" in notes[0], notes
