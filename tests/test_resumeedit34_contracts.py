"""Review resumeedit34: `trainlab resume DIR` after config.yaml was edited or re-saved."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from conftest import small_config
from trainlab.train import resume, train


def _files(path):
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


# A population grid with two axes written in non-alphabetical order (optim.weight_decay, then
# model.dropout). Re-saving the run's config.yaml with PyYAML's default `yaml.safe_dump`
# (sort_keys=True) -- the very edit conftest's `full_and_resumed_longer` makes, and the code's
# own comment in _restore says "a config.yaml re-saved with sorted keys is the same config" --
# swaps the grid axes. The models are the same (same seeds, same overrides), only their
# expansion order differs. resume refuses with "<dir>/config.yaml no longer describes the
# models ... (seeds or overrides changed)", which is false (neither seeds nor overrides
# changed) and names no key, breaking the README's "an edited config.yaml is refused, naming
# the keys". Correct: either resume (matching models by seed+overrides, kept in the recorded
# order), or refuse naming population.grid (its axis order). Nothing in the folder may change.
def test_grid_axes_reordered_by_sorted_resave_resumes_or_names_the_grid(tmp_path):
    cfg = small_config(
        train={"epochs": 1},
        population={
            "seeds": [0],
            "grid": {"optim.weight_decay": [0.0, 0.001], "model.dropout": [0.0, 0.1]},
        },
    )
    train(cfg, out=tmp_path / "r", progress=False, device="cpu")
    path = tmp_path / "r" / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump(raw))  # sorted keys: the grid axes swap places
    assert list(yaml.safe_load(path.read_text())["population"]["grid"]) == [
        "model.dropout",
        "optim.weight_decay",
    ]
    raw["train"]["epochs"] = 2
    path.write_text(yaml.safe_dump(raw))
    with pytest.warns(UserWarning, match="train.epochs changed"):
        resumed = resume(tmp_path / "r", progress=False, device="cpu")  # (the fix: resumes)
    cfg.train.epochs = 2
    straight = train(cfg, out=tmp_path / "s", progress=False, device="cpu")
    assert resumed.summary["models"] == straight.summary["models"]


# The same value written another way in config.yaml (`- 0` for the recorded 0.0 of a grid
# axis, as a hand edit or another YAML emitter writes it) is accepted by resume (0 == 0.0: the
# same models), but _restore then keeps the *edited* override values and only the recorded key
# order (train.py, "member.overrides = {k: member.overrides[k] ...}"): the resumed run's
# summary.json names the group "optim.weight_decay=0" while population.json (and report.html,
# which groups by population.json) name it "optim.weight_decay=0.0", so the run's own files
# disagree and a join of summary.json groups with population.json groups loses the group.
# Correct: group names of summary.json as in population.json (the code's own stated intent),
# i.e. the recorded override values, not the re-spelled ones.
def test_respelled_grid_value_keeps_recorded_group_names(tmp_path):
    import json

    cfg = small_config(
        train={"epochs": 1}, population={"seeds": [0], "grid": {"optim.weight_decay": [0.0, 0.001]}}
    )
    train(cfg, out=tmp_path / "r", progress=False, device="cpu")
    path = tmp_path / "r" / "config.yaml"
    text = path.read_text()
    assert "    - 0.0\n    - 0.001" in text
    text = text.replace("    - 0.0\n    - 0.001", "    - 0\n    - 0.001")
    path.write_text(text.replace("  epochs: 1\n", "  epochs: 2\n"))
    with pytest.warns(UserWarning, match="train.epochs changed"):
        resume(tmp_path / "r", progress=False, device="cpu")
    pop = json.loads((tmp_path / "r" / "population.json").read_text())
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    recorded = sorted({m["group"] for m in pop["models"]})
    assert sorted(g["group"] for g in summary["groups"]) == recorded
