"""Resume after the trainer and population changes: a run killed after any checkpoint
and resumed reaches the uninterrupted run's final weights and metrics, bitwise on the CPU."""

import json
import warnings

import pytest
import torch
import yaml
from torch import nn

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.runs import RunDir
from trainlab.train import resume, train


def _rows(out):
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("time")
    return sorted(rows, key=lambda r: (r["model"], r["epoch"]))


def _assert_same_run(ref, out):
    a = torch.load(ref / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] and a["step"] == b["step"]
    differ = [n for n, t in a["population"].items() if not torch.equal(b["population"][n], t)]
    assert differ == [], f"resumed weights differ from the uninterrupted run's: {differ}"
    assert _rows(out) == _rows(ref)


def _killed_and_resumed(monkeypatch, cfg, out, after, model=None):
    kw = {} if model is None else {"model": model()}
    orig = kill_after_checkpoint(monkeypatch, after)
    with pytest.raises(Killed):
        train(cfg, out=out, progress=False, device="cpu", **kw)
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    kw = {} if model is None else {"model": model()}
    return resume(out, progress=False, device="cpu", **kw)


# -- the vmap -> loop fallback taken at the first evaluation is in the checkpoint -------------
class _EvalReadsAValue(nn.Module):
    """Trains under vmap; its evaluation forward reads a value (``.item()``), which vmap cannot
    batch, so the population falls back to the loop mode at the first evaluation."""

    def __init__(self):
        super().__init__()
        self.l1, self.bn, self.l2 = nn.Linear(64, 32), nn.BatchNorm1d(32), nn.Linear(32, 10)
        self.register_forward_hook(lambda m, i, o: o)  # a hook: the vmap path, not stacked

    def forward(self, x):
        h = self.bn(self.l1(x.flatten(1))).relu()
        if not self.training and h.abs().max().item() < 0:  # never true
            h = -h
        return self.l2(h)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_resume_after_the_eval_fallback_to_loop_mode_is_bitwise(tmp_path, monkeypatch):
    """The uninterrupted run trains epoch 2 in loop mode (chosen at epoch 1's evaluation); the
    checkpoint keeps the mode, so the resumed run does too and rounds alike."""
    cfg = small_config(train={"epochs": 2}, population={"seeds": [0, 1]})
    ref = train(cfg, out=tmp_path / "ref", progress=False, device="cpu", model=_EvalReadsAValue())
    assert ref.population.mode == "loop"
    _killed_and_resumed(monkeypatch, cfg, tmp_path / "run", 1, model=_EvalReadsAValue)
    _assert_same_run(tmp_path / "ref", tmp_path / "run")


# -- NaN and early-stopped batch-norm models, dropout called twice, extended runs ------------
def _stopping_config(**train_kw):
    """Batch norm and dropout; lr 1e6 turns NaN in epoch 1, lr 3.0 early-stops later."""
    return small_config(
        model={"dropout": 0.2, "batch_norm": True},
        optim={"name": "sgd", "lr": 0.05, "momentum": 0.9},
        train={"epochs": 4, "batch_size": 64, "early_stopping_patience": 1, **train_kw},
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.05, 1e6, 3.0]}},
    )


@pytest.fixture(scope="module")
def stopping_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    result = train(_stopping_config(), out=out, progress=False, device="cpu")
    status = {m["status"] for m in result.summary["models"]}
    assert {"nan", "early_stopped", "ok"} <= status  # the case this test is about
    return out


@pytest.mark.parametrize("after", [1, 2, 3])
def test_resume_with_nan_and_early_stopped_batch_norm_models(
    tmp_path, monkeypatch, stopping_reference, after
):
    _killed_and_resumed(monkeypatch, _stopping_config(), tmp_path / "run", after)
    _assert_same_run(stopping_reference, tmp_path / "run")


class _DropoutTwice(nn.Module):
    """vmap mode (a BatchNorm subclass), one dropout module called twice per forward."""

    class _BN(nn.BatchNorm1d):
        pass

    def __init__(self):
        super().__init__()
        self.l1, self.bn, self.l2 = nn.Linear(64, 32), self._BN(32), nn.Linear(32, 10)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return self.l2(self.drop(self.drop(self.bn(self.l1(x.flatten(1))).relu())))


def test_resume_of_a_vmap_module_with_dropout_twice_and_stopped_models(tmp_path, monkeypatch):
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1, "momentum": 0.9},
        train={"epochs": 3, "batch_size": 64, "early_stopping_patience": 1, "clip_value": 0.5},
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.1, 1e5]}},
    )
    train(cfg, out=tmp_path / "ref", progress=False, device="cpu", model=_DropoutTwice())
    _killed_and_resumed(monkeypatch, cfg, tmp_path / "run", 2, model=_DropoutTwice)
    _assert_same_run(tmp_path / "ref", tmp_path / "run")
    assert all("clip_frac" in r for r in _rows(tmp_path / "run"))


def test_a_killed_extension_resumes_to_the_longer_runs_end(tmp_path, monkeypatch):
    """A finished 2-epoch run raised to 4 epochs, killed after epoch 3's checkpoint, has no
    summary.json; resumed, it equals a 4-epoch run (schedule none: the lrs do not change)."""
    train(_stopping_config(), out=tmp_path / "ref", progress=False, device="cpu")
    out = tmp_path / "run"
    short = _stopping_config()
    short.train.epochs = 2
    train(short, out=out, progress=False, device="cpu")
    path = out / "config.yaml"
    edited = yaml.safe_load(path.read_text())
    edited["train"]["epochs"] = 4
    path.write_text(yaml.safe_dump(edited))
    orig = kill_after_checkpoint(monkeypatch, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Killed):
            resume(out, progress=False, device="cpu")
        assert not (out / "summary.json").exists()
        monkeypatch.setattr(RunDir, "save_checkpoint", orig)
        resume(out, progress=False, device="cpu")
    _assert_same_run(tmp_path / "ref", out)


def test_extending_a_run_whose_models_all_stopped_says_nothing_is_trained(tmp_path):
    """Raising train.epochs of a run whose every model has early-stopped: the note said
    "training continues to the new end", yet nothing trains. It says so instead."""
    cfg = small_config(
        optim={"name": "sgd", "lr": 1e-30},  # the weights never move: stops at once
        train={"epochs": 4, "early_stopping_patience": 1},
        population={"seeds": [0, 1]},
    )
    run = train(cfg, out=tmp_path / "r", progress=False, device="cpu").run_dir
    assert {m["status"] for m in json.loads((run / "summary.json").read_text())["models"]} == {
        "early_stopped"
    }
    raw = yaml.safe_load((run / "config.yaml").read_text())
    raw["train"]["epochs"] = 8
    (run / "config.yaml").write_text(yaml.safe_dump(raw))
    notes: list[str] = []
    resume(run, progress=False, on_note=notes.append)
    assert any("every model has stopped" in n for n in notes), notes
    assert not any("continues to the new end" in n for n in notes), notes
