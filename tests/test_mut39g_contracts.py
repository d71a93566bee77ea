"""Mutation review mut39g: resuming and loading runs (trainlab.train.resume, load_run, the
checks in _rebuild / _config_changes / _foreign_keys, Trainer.load_state_dict), pinned against
runs trained straight through, the README's stated rules and hand-edited run files."""

import json

import pytest
import yaml

from conftest import small_config
from trainlab.errors import UserError
from trainlab.train import Trainer, resume, train


def _edit_config(out, edit):
    path = out / "config.yaml"
    cfg = yaml.safe_load(path.read_text())
    edit(cfg)
    path.write_text(yaml.safe_dump(cfg))


# Kills train.py:1071 `state.get("eval_stopped", [False] * self.k)` -> `[True] * self.k`.
# A checkpoint of a version before eval_stopped was kept has no such key: its models were not
# stopped by an evaluation. A model gone NaN in a step (SGD at lr 1e30) is summarised as a
# straight-through trainer summarises it (no "stopped_by": "evaluation").
def test_state_without_eval_stopped_loads_as_no_model_stopped_by_evaluation():
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.01},
        train={"epochs": 1},
        population={"seeds": [0], "grid": {"optim.lr": [0.01, 1e30]}},
    )
    straight = Trainer(cfg, device="cpu")
    straight.fit(None, progress=False)
    state = straight.state_dict()
    del state["eval_stopped"]
    again = Trainer(cfg, device="cpu")
    again.load_state_dict(state)
    assert again.eval_stopped == [False, False]
    want = straight.summary()["models"]
    assert want[1]["status"] == "nan" and "stopped_by" not in want[1]
    assert again.summary()["models"] == want


# Kills train.py:1889 `if written != now:` -> `if False:`. config.yaml still matches the
# checkpoint, but population.json (hand-edited here) records another seed for model 0: the
# run's record no longer describes the models config.yaml builds, and resume refuses it.
def test_resume_refuses_population_json_whose_models_config_yaml_no_longer_builds(tmp_path):
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, device="cpu", progress=False)
    _edit_config(out, lambda c: c["train"].update(epochs=2))
    info = json.loads((out / "population.json").read_text())
    info["models"][0]["seed"] = 7
    (out / "population.json").write_text(json.dumps(info))
    with pytest.raises(UserError, match="no longer describes the models"):
        resume(out, device="cpu", progress=False, on_note=lambda _m: None)
