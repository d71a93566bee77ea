"""Review read29g: the second half of trainlab.train (summary, train, resume, load_run, the
run directory, checkpoints, RunResult, progress helpers)."""

from __future__ import annotations

import pytest
import torch
import yaml
from torch import nn

from conftest import Killed
from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.train import Trainer, resume, train


def _edit(run, section: str, key: str, value) -> None:
    path = run / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[section][key] = value
    path.write_text(yaml.safe_dump(raw))


def _module() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 10)
    )


# _config_changes (src/trainlab/train.py) drops, for a run on a module passed in, every `model.*`
# key that only one side (checkpoint / config.yaml) has, because earlier versions recorded the
# model defaults. But `model.dropout` is not a default: written into config.yaml it sets the
# module's dropout rates in every model (README: "a global `model.dropout` (even 0) ... sets the
# module's dropout rates"). Added to config.yaml of a killed run, resume accepts it without a word
# and trains at 0.6 instead of the module's 0.3 (a run killed before its first checkpoint; after
# one, the checkpoint's rates win, yet config.yaml and the new checkpoints then say 0.6). The same
# edit on a built-in model's run is refused ("model.dropout: 0.0 -> 0.6"). README: "an edited
# config.yaml is refused, naming the keys" except the listed ones, so resume must refuse it.
def test_resume_refuses_model_dropout_added_to_config_of_a_custom_module_run(tmp_path, monkeypatch):
    cfg = parse_config(
        {
            "name": "t",
            "model": {"name": "mlp"},
            "train": {"epochs": 1, "batch_size": 128},
            "population": {"seeds": [0, 1]},
        }
    )
    real = Trainer.train_epoch

    def killed(self, *args, **kwargs):
        raise Killed  # the process dies inside epoch 1, before any checkpoint

    monkeypatch.setattr(Trainer, "train_epoch", killed)
    module = _module()
    with pytest.raises(Killed):
        train(cfg, out=tmp_path / "run", model=module, progress=False, device="cpu")
    monkeypatch.setattr(Trainer, "train_epoch", real)
    _edit(tmp_path / "run", "model", "dropout", 0.6)
    with pytest.raises(UserError, match="model.dropout"):
        resume(tmp_path / "run", model=module, progress=False, device="cpu", on_note=lambda _: None)


# _config_changes (src/trainlab/train.py) builds its train.epochs note from two independent parts:
# "training ends at epoch N, already reached" when the new length is the epochs already trained,
# and, for a length-dependent schedule, "so its learning rates from here on differ from those the
# run would have had". Together they say that something will still train at other rates, while
# nothing trains at all; what is true is the reverse: the epochs already trained followed the old
# length's cosine (it never annealed), which config.yaml (now 2 epochs) no longer describes.
# Expected: a note for a run that trains no further does not speak of learning rates "from here on".
def test_epochs_note_does_not_promise_other_rates_when_nothing_trains(tmp_path, monkeypatch):
    from conftest import kill_after_checkpoint, small_config
    from trainlab.runs import RunDir

    cfg = small_config(
        train={"epochs": 4, "batch_size": 256},
        schedule={"name": "cosine"},
        population={"seeds": [0]},
    )
    orig = kill_after_checkpoint(monkeypatch, 2)  # killed after epoch 2 of 4
    with pytest.raises(Killed):
        train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    _edit(tmp_path / "run", "train", "epochs", 2)
    notes: list[str] = []
    result = resume(tmp_path / "run", progress=False, device="cpu", on_note=notes.append)
    assert result.summary["epochs"] == 2
    assert len(notes) == 1 and "already reached" in notes[0]
    assert "from here on" not in notes[0], notes[0]
