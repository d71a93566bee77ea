"""Review (resume32): resume with schedules and state carried across epochs."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.runs import RunDir
from trainlab.train import resume, train


# A resumed run's summary.json names a variant's group by the key order of the config.yaml
# read at resume, not by the run's own record: rewriting config.yaml with the same content in
# another key order (a YAML tool that sorts keys; resume accepts it as unchanged, since the
# mappings are equal) turns the group 'schedule.t_0=1.3, optim.lr=0.05' that population.json
# (written when the run started) and an uninterrupted run's summary.json hold into
# 'optim.lr=0.05, schedule.t_0=1.3'. One run folder then names one group two ways
# (population.json vs summary.json) and differs from the uninterrupted run, although its
# training is bitwise the same. Expected: summary.json's groups are population.json's.
def test_resumed_summary_keeps_the_group_names_of_population_json(tmp_path, monkeypatch):
    cfg = small_config(
        model={"name": "mlp", "hidden": [4]},
        optim={"name": "sgd", "lr": 0.01},
        schedule={"name": "sgdr", "t_0": 0.7},
        population={
            "seeds": [0],
            "variants": [{"schedule.t_0": 0.7}, {"schedule.t_0": 1.3, "optim.lr": 0.05}],
        },
        train={"epochs": 2, "batch_size": 256},
    )
    out = tmp_path / "run"
    orig = kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        train(cfg, out=out, progress=False, device="cpu")
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    text = (out / "config.yaml").read_text()
    (out / "config.yaml").write_text(yaml.safe_dump(yaml.safe_load(text)))  # same mapping
    resume(out, progress=False, device="cpu", on_note=lambda _: None)
    recorded = [m["group"] for m in json.loads((out / "population.json").read_text())["models"]]
    summary = [m["group"] for m in json.loads((out / "summary.json").read_text())["models"]]
    assert recorded[1] == "schedule.t_0=1.3, optim.lr=0.05"
    assert summary == recorded
