"""Review diff31a: regressions in this session's changes (train.schedule_epochs on resume)."""

from __future__ import annotations

import re

import pytest
import yaml

from trainlab.config import parse_config
from trainlab.diagnostics.run import diagnose
from trainlab.errors import UserError
from trainlab.train import resume


def _config_text(path):
    return (path / "config.yaml").read_text()


# A diagnose run of a 4-epoch cosine config trained with --epochs 1 records
# train.schedule_epochs: 4 (src/trainlab/diagnostics/run.py). The finished run says "to train
# it longer raise train.epochs in its config.yaml, then `trainlab resume`". Raising
# train.epochs to 6 fails at Trainer construction with config.schedule_epochs's ConfigError,
# which tells the user to "raise or remove train.schedule_epochs" -- but resume's
# _config_changes refuses exactly that edit (train.schedule_epochs is not in
# RESUME_MAY_CHANGE: "config.yaml changed since the checkpoint (train.schedule_epochs: 4 ->
# None) ... restore these keys"). The advice given must be one resume accepts: either
# resume allows raising/removing train.schedule_epochs (as it allows train.epochs, with the
# same "the schedule spans the new length" note), or the first error must not recommend it.
def test_resume_of_diagnose_run_past_its_schedule_gives_advice_resume_accepts(tmp_path):
    cfg = parse_config(
        {
            "name": "cos",
            "data": {"name": "blobs", "options": {"n_samples": 300}},
            "model": {"hidden": [8]},
            "train": {"epochs": 4, "batch_size": 50},
            "schedule": {"name": "cosine"},
        }
    )
    out = tmp_path / "d"
    diagnose(cfg, out=out, epochs=1, progress=False, report=False)
    raw = yaml.safe_load(_config_text(out))
    assert raw["train"]["schedule_epochs"] == 4 and raw["train"]["epochs"] == 1
    raw["train"]["epochs"] = 6
    (out / "config.yaml").write_text(yaml.safe_dump(raw))
    try:
        resume(out, progress=False, on_note=lambda s: None)
        return  # resume took the longer run as it stands: fine
    except UserError as err:
        first = str(err)
    if not re.search(r"(raise|remove)[^;]*train\.schedule_epochs", first):
        return  # the message does not advise an edit of train.schedule_epochs
    # follow the advice given: remove train.schedule_epochs
    del raw["train"]["schedule_epochs"]
    (out / "config.yaml").write_text(yaml.safe_dump(raw))
    try:
        resume(out, progress=False, on_note=lambda s: None)
    except UserError as err:
        pytest.fail(f"first: {first!r}; after following it: {err}")
