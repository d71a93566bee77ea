"""Review earlystop19: early stopping, NaN/Inf stops and the summary aggregates."""

import pytest
import torch
import yaml

from conftest import Killed, batch_stats_net, kill_after_checkpoint, small_config
from trainlab.errors import UserError
from trainlab.runs import RunDir
from trainlab.train import resume, train


def _batch_stats_eval():
    """Batch norm without running statistics: evaluation normalizes with each chunk's own
    statistics, so train.eval_batch_size changes the validation numbers."""
    return batch_stats_net()


def _early_stopping_cfg():
    return small_config(
        optim={"name": "sgd", "lr": 0.5},
        train={"epochs": 3, "batch_size": 64, "early_stopping_patience": 1},
        population={"seeds": [4]},
    )


def test_resume_with_an_edited_eval_batch_size_keeps_early_stopping_decisions(
    tmp_path, monkeypatch
):
    # wrong: resume accepts an edited train.eval_batch_size as a setting "that does not touch
    # the models", but with early stopping the validation numbers decide when each model stops,
    # so the resumed run stops other models at other steps (other final weights) than the
    # uninterrupted run; right: refuse that edit when early stopping is on (or reach the same run)
    ref = train(
        _early_stopping_cfg(), out=tmp_path / "ref", progress=False, device="cpu",
        model=_batch_stats_eval(),
    )  # fmt: skip
    out = tmp_path / "run"
    orig = kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        train(
            _early_stopping_cfg(), out=out, progress=False, device="cpu",
            model=_batch_stats_eval(),
        )  # fmt: skip
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    raw = yaml.safe_load((out / "config.yaml").read_text())
    raw["train"]["eval_batch_size"] = 16
    (out / "config.yaml").write_text(yaml.safe_dump(raw))
    try:
        got = resume(out, progress=False, device="cpu", model=_batch_stats_eval(), on_note=print)
    except UserError:
        return  # refused: the right outcome
    want = [(m["status"], m["stopped_step"]) for m in ref.summary["models"]]
    assert [(m["status"], m["stopped_step"]) for m in got.summary["models"]] == want
    a = torch.load(tmp_path / "ref" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(a["population"][k], b["population"][k]) for k in a["population"])
