"""Review ckpt31: checkpoint files and run-folder integrity under damage."""

from __future__ import annotations

import shutil

import pytest
import torch
import yaml

from conftest import small_config
from trainlab.errors import UserError
from trainlab.report.html import build_report
from trainlab.train import resume, train


def _run(path, hidden, epochs=2):
    cfg = small_config(
        model={"hidden": hidden}, train={"epochs": epochs}, population={"seeds": [0]}
    )
    train(cfg, out=path, progress=False, device="cpu")
    return path


def _snapshot(path):
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}


# A checkpoint of another run (here: another model.hidden) copied over checkpoints/last.pt is
# reported as "config.yaml changed since the checkpoint (model.hidden: [8] -> [16]); restore
# these keys": config.yaml is intact (it still agrees with population.json, the run's own
# record of its config), the checkpoint is the damaged file. The message must name last.pt
# as what does not belong to the run, and must not tell the user to edit config.yaml.
def test_foreign_checkpoint_is_named_not_config_yaml(tmp_path):
    a = _run(tmp_path / "a", [16])
    b = _run(tmp_path / "b", [8])
    shutil.copy(b / "checkpoints" / "last.pt", a / "checkpoints" / "last.pt")
    with pytest.raises(UserError) as info:
        resume(a, progress=False, device="cpu")
    msg = str(info.value)
    assert "last.pt" in msg, msg
    assert "changed since the checkpoint" not in msg, msg


# Following that hint (editing config.yaml to the foreign checkpoint's model.hidden) makes
# resume go on silently: the run then holds metrics.jsonl rows of epochs 1-2 from the hidden-16
# models and epoch 3 from the hidden-8 checkpoint, while population.json still records
# hidden [16]. config.yaml disagreeing with population.json's recorded config outside
# RESUME_MAY_CHANGE must be refused (as seeds/overrides already are), with metrics.jsonl
# left byte-for-byte as it was.
def test_resume_refuses_config_that_no_longer_matches_population_json(tmp_path):
    a = _run(tmp_path / "a", [16])
    b = _run(tmp_path / "b", [8])
    shutil.copy(b / "checkpoints" / "last.pt", a / "checkpoints" / "last.pt")
    raw = yaml.safe_load((a / "config.yaml").read_text())
    raw["model"]["hidden"] = [8]
    raw["train"]["epochs"] = 3
    (a / "config.yaml").write_text(yaml.safe_dump(raw))
    metrics = (a / "metrics.jsonl").read_bytes()
    with pytest.raises(UserError):
        resume(a, progress=False, device="cpu")
    assert (a / "metrics.jsonl").read_bytes() == metrics


# A checkpoint that lacks an entry every trainlab checkpoint has ('optimizer') is a damaged
# checkpoint, but resume says "last.pt does not match config.yaml (no 'optimizer' entry);
# restore the run's config.yaml": config.yaml is untouched, restoring it cannot help. The
# message must not send the user to config.yaml (the checkpoint is what to delete/restore).
def test_checkpoint_missing_an_entry_is_not_blamed_on_config(tmp_path):
    a = _run(tmp_path / "a", [16])
    ckpt = a / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=True)
    del state["optimizer"]
    torch.save(state, ckpt)
    before = _snapshot(a)
    with pytest.raises(UserError) as info:
        resume(a, progress=False, device="cpu")
    msg = str(info.value)
    assert str(ckpt) in msg, msg
    assert "restore the run's config.yaml" not in msg, msg
    after = _snapshot(a)
    assert {k: v for k, v in after.items() if k.name != ".lock"} == {
        k: v for k, v in before.items() if k.name != ".lock"
    }


# A finished run (summary.json written) whose metrics.jsonl lost its last line half-way:
# build_report skips the torn line as if a kill had left it and reports the run as complete,
# drawing model 0's curves without their last epoch, without a word. A finished run's last
# append is followed by a checkpoint and summary.json, so a torn last line there is damage,
# not a kill. `trainlab resume` on the same folder already refuses ("lacks rows the
# checkpoint has trained"); the report, which refuses an empty metrics.jsonl for a finished
# run, must refuse this too (UserError naming metrics.jsonl), not draw partial curves.
def test_report_refuses_finished_run_with_torn_metrics(tmp_path):
    a = _run(tmp_path / "a", [16])
    data = (a / "metrics.jsonl").read_bytes()
    (a / "metrics.jsonl").write_bytes(data[:-40])
    with pytest.raises(UserError) as info:
        build_report(a)
    assert "metrics.jsonl" in str(info.value)
