"""Mutation review mut39i: resuming runs (trainlab.train.resume / load_run and their checks),
pinned against runs trained straight through, the README's rules and hand-edited run files."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from torch import nn

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.data import load
from trainlab.errors import UserError
from trainlab.runs import RunDir
from trainlab.train import resume, train

# (small_config sets model.hidden, which a module passed in ignores, with a warning)
pytestmark = pytest.mark.filterwarnings("ignore:ignored model.hidden")


def _quiet(_message):
    pass


def _module(act: type[nn.Module] = nn.ReLU) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), act(), nn.Linear(16, 10))


def _weights(out):
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    return state["population"]


def _killed_after_first_checkpoint(monkeypatch, cfg, out, **kw):
    orig = kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        train(cfg, out=out, progress=False, device="cpu", **kw)
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)


# Kills train.py:1787 `if dataset is not None and not custom_data` -> `... and custom_data`.
# README: a run that trained on a dataset passed in resumes with it passed again; one that
# trained on its config's data takes no dataset= (even the very same data).
def test_resume_of_a_config_data_run_refuses_dataset_passed_in(tmp_path):
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    with pytest.raises(
        UserError, match=r"trained on its config's data \(digits\).*without dataset=$"
    ):
        resume(out, dataset=load("digits"), progress=False, device="cpu", on_note=_quiet)


# Kills train.py:1800 `recorded[k] != given[k]` -> `==`: the same module passed again resumes
# (to the weights of a run trained straight through), and a module whose structure differs
# (Tanh for ReLU, same parameter names and shapes) is refused naming only what differs.
def test_resume_with_the_same_module_reaches_the_straight_run(tmp_path, monkeypatch):
    cfg = small_config(train={"epochs": 2, "batch_size": 128})
    train(cfg, model=_module(), out=tmp_path / "ref", progress=False, device="cpu")
    out = tmp_path / "run"
    _killed_after_first_checkpoint(monkeypatch, cfg, out, model=_module())
    resume(out, model=_module(), progress=False, device="cpu", on_note=_quiet)
    ref, got = _weights(tmp_path / "ref"), _weights(out)
    assert sorted(ref) == sorted(got)
    assert all(torch.equal(ref[n], got[n]) for n in ref)


def test_resume_with_a_module_of_other_structure_names_only_the_structure(tmp_path, monkeypatch):
    cfg = small_config(train={"epochs": 2, "batch_size": 128})
    out = tmp_path / "run"
    _killed_after_first_checkpoint(monkeypatch, cfg, out, model=_module())
    with pytest.raises(UserError) as exc:
        resume(out, model=_module(nn.Tanh), progress=False, device="cpu", on_note=_quiet)
    msg = str(exc.value)
    assert "is not the one" in msg and "(its structure differs)" in msg, msg
    assert "class" not in msg.split("is not the one")[1] and "frozen" not in msg, msg


# Kills train.py:1986 `done_step - 1` -> `done_step`: a --diagnose run killed after a later
# epoch's diagnostics were appended but before its checkpoint: resumed, diagnostics.jsonl
# holds each (model, layer, step) row once, the rows of a run trained straight through.
def test_diagnostics_rows_after_a_kill_between_checkpoints_are_the_straight_runs(
    tmp_path, monkeypatch
):
    cfg = small_config(
        train={"epochs": 3, "batch_size": 128, "diagnose_every": 1, "checkpoint_every": 2},
    )
    train(cfg, out=tmp_path / "ref", progress=False, device="cpu")
    orig, calls = RunDir.save_checkpoint, [0]

    def save(self, state):
        calls[0] += 1
        if calls[0] == 2:  # the final checkpoint: epoch 3's rows are on disk, it is not
            raise Killed
        orig(self, state)

    monkeypatch.setattr(RunDir, "save_checkpoint", save)
    out = tmp_path / "run"
    with pytest.raises(Killed):
        train(cfg, out=out, progress=False, device="cpu")
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    assert torch.load(out / "checkpoints" / "last.pt", weights_only=True)["epoch"] == 2
    resume(out, progress=False, device="cpu", on_note=_quiet)

    def keys(run):
        rows = [json.loads(x) for x in (run / "diagnostics.jsonl").read_text().splitlines()]
        return Counter((r["model"], r["layer"], r["step"]) for r in rows)

    ref, got = keys(tmp_path / "ref"), keys(out)
    assert max(ref.values()) == 1
    assert got == ref


# Kills train.py:2134 `len(ds.y_val)` -> `len(ds.y_train)`: README, population.json keeps a
# fingerprint of the data as loaded: its (train, val, test) sizes among it.
def test_population_json_records_the_three_split_sizes(tmp_path):
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    ds = load("digits")
    want = [len(ds.y_train), len(ds.y_val), len(ds.y_test)]
    assert len(set(want)) == 3
    info = json.loads((out / "population.json").read_text())
    assert info["data_fingerprint"]["sizes"] == want


# Kills train.py:2044 `if not loaded:` -> `if loaded:`: load_run gives a finished run's final
# models (those train() returned) and refuses a run killed before its first checkpoint.
def test_load_run_gives_the_final_models_and_refuses_a_run_without_checkpoint(
    tmp_path, monkeypatch
):
    from conftest import raise_in_second_epoch
    from trainlab.train import load_run

    cfg = small_config(train={"epochs": 2, "batch_size": 128}, population={"seeds": [0, 1]})
    done = train(cfg, out=tmp_path / "done", progress=False, device="cpu")
    got = load_run(tmp_path / "done")
    for i in range(2):
        want, have = done.model(i).state_dict(), got.model(i).state_dict()
        assert sorted(want) == sorted(have)
        assert all(torch.equal(want[n], have[n]) for n in want)

    cfg = small_config(train={"epochs": 3, "batch_size": 128, "checkpoint_every": 2})
    raise_in_second_epoch(monkeypatch)  # epoch 1 wrote no checkpoint
    with pytest.raises(Killed):
        train(cfg, out=tmp_path / "early", progress=False, device="cpu")
    assert not (tmp_path / "early" / "checkpoints" / "last.pt").exists()
    with pytest.raises(UserError, match="has no checkpoint yet"):
        load_run(tmp_path / "early")


# Kills train.py:2062 `range(1, epochs + 1)` -> `range(1, epochs)`: metrics.jsonl lacking the
# checkpoint's last trained epoch (hand-cut here) is refused, naming that (model, epoch).
def test_resume_refuses_metrics_lacking_the_checkpoints_last_epoch(tmp_path, monkeypatch):
    cfg = small_config(train={"epochs": 3, "batch_size": 128}, population={"seeds": [0, 1]})
    out = tmp_path / "run"
    orig = kill_after_checkpoint(monkeypatch, 2)  # killed after epoch 2's checkpoint
    with pytest.raises(Killed):
        train(cfg, out=out, progress=False, device="cpu")
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    path = out / "metrics.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert {(r["model"], r["epoch"]) for r in rows} >= {(m, e) for m in (0, 1) for e in (1, 2)}
    kept = [r for r in rows if not (r["model"] == 1 and r["epoch"] == 2)]
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    with pytest.raises(
        UserError, match=r"lacks rows the checkpoint has trained \(model 1, epoch 2 of 2\)"
    ):
        resume(out, progress=False, device="cpu", on_note=_quiet)


def _edit_config(out, edit):
    import yaml

    path = out / "config.yaml"
    cfg = yaml.safe_load(path.read_text())
    edit(cfg)
    path.write_text(yaml.safe_dump(cfg))


# Kills train.py:2311 `k in before or ADDED_KEYS...` -> `ADDED_KEYS...`: a key added in a later
# version (train.tf32) that the checkpoint does record is an edit when config.yaml changes it,
# even to the value earlier runs trained with; it is not in RESUME_MAY_CHANGE: refused.
def test_resume_refuses_an_edited_tf32_recorded_in_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    cfg = small_config(train={"epochs": 1, "tf32": True})
    train(cfg, out=out, progress=False, device="cpu")
    _edit_config(out, lambda c: c["train"].update(tf32=False, epochs=2))
    with pytest.raises(UserError, match=r"changed since the checkpoint \(train\.tf32: "):
        resume(out, progress=False, device="cpu", on_note=_quiet)


# Kills train.py:2319 `if before.get("train.early_stopping_patience") is not None` -> `is None`:
# README/RESUME_MAY_CHANGE: train.eval_batch_size may change only without early stopping.
def test_eval_batch_size_edit_refused_with_early_stopping_allowed_without(tmp_path):
    out = tmp_path / "es"
    cfg = small_config(train={"epochs": 1, "early_stopping_patience": 5})
    train(cfg, out=out, progress=False, device="cpu")
    _edit_config(out, lambda c: c["train"].update(eval_batch_size=100, epochs=2))
    with pytest.raises(UserError, match=r"changed since the checkpoint \(train\.eval_batch_size"):
        resume(out, progress=False, device="cpu", on_note=_quiet)

    out = tmp_path / "plain"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    _edit_config(out, lambda c: c["train"].update(eval_batch_size=100))
    resume(out, progress=False, device="cpu", on_note=_quiet)  # nothing to train; no refusal


# Kills train.py:2326 `len(bad) > 3` -> `len(bad) > 2`: three edited keys are all named, with
# no "(and 0 more)".
def test_three_edited_keys_are_named_without_and_more(tmp_path):
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")

    _edit_config(
        out,
        lambda c: (
            c["optim"].update(lr=0.02),
            c["train"].update(batch_size=32),
            c["init"].update(scheme="xavier_normal"),
        ),
    )
    with pytest.raises(UserError) as exc:
        resume(out, progress=False, device="cpu", on_note=_quiet)
    msg = str(exc.value)
    for key in ("init.scheme", "optim.lr", "train.batch_size"):
        assert key in msg, msg
    assert "more)" not in msg, msg


# Kills train.py:2336 `new < done` -> `new <= done` and 2344 `new > done` -> `new >= done`:
# train.epochs lowered to exactly the epochs the checkpoint has trained is allowed (the error
# says "set train.epochs to {done} or more"), and the note says the run ends there.
def test_epochs_lowered_to_the_checkpoints_epoch_ends_the_run_there(tmp_path, monkeypatch):
    cfg = small_config(train={"epochs": 3, "batch_size": 128})
    out = tmp_path / "run"
    _killed_after_first_checkpoint(monkeypatch, cfg, out)
    _edit_config(out, lambda c: c["train"].update(epochs=1))
    notes = []
    resume(out, progress=False, device="cpu", on_note=notes.append)
    assert any(
        "changed from 3 to 1" in n and "ends at epoch 1, already reached" in n for n in notes
    ), notes
    assert not any("continues to the new end" in n for n in notes), notes


# Kills train.py:2333 `old_span == new_span` -> `True`: README, train.schedule_epochs may
# change from the checkpoint on, "and resume says so".
def test_changed_schedule_epochs_alone_is_said(tmp_path, monkeypatch):
    cfg = small_config(train={"epochs": 3, "batch_size": 128})
    out = tmp_path / "run"
    _killed_after_first_checkpoint(monkeypatch, cfg, out)
    _edit_config(out, lambda c: c["train"].update(schedule_epochs=5))
    notes = []
    resume(out, progress=False, device="cpu", on_note=notes.append)
    assert any("train.schedule_epochs changed from 3 to 5" in n for n in notes), notes
