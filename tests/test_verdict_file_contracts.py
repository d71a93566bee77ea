"""verdict.json is written at the end of every run with diagnostics: ``trainlab train
--diagnose``, ``trainlab diagnose`` and a resumed diagnose run (its verdict was missing: only
``diagnose()`` wrote it, after training, so a killed diagnose run resumed without one)."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import small_config


def test_a_run_with_diagnostics_writes_its_verdict_and_a_resumed_one_too(tmp_path):
    from trainlab.diagnostics.run import read_records, run_findings
    from trainlab.train import resume, train

    cfg = small_config(train={"epochs": 1, "batch_size": 64, "diagnose_every": 5})
    out = tmp_path / "run"
    result = train(cfg, out=out, progress=False, device="cpu")
    first = json.loads((out / "verdict.json").read_text())
    want = run_findings(read_records(out), result.summary)
    assert first == [f.__dict__ for f in want] and first
    # as after a kill before the end: no verdict yet, and the run goes on for another epoch
    (out / "verdict.json").unlink()
    conf = yaml.safe_load((out / "config.yaml").read_text())
    conf["train"]["epochs"] = 2
    (out / "config.yaml").write_text(yaml.safe_dump(conf))
    with pytest.warns(UserWarning, match="train.epochs changed from 1 to 2"):
        resumed = resume(out, device="cpu", progress=False)
    again = json.loads((out / "verdict.json").read_text())
    assert again == [f.__dict__ for f in run_findings(read_records(out), resumed.summary)]


def test_a_run_without_diagnostics_writes_no_verdict(tmp_path):
    from trainlab.train import train

    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    assert not (out / "verdict.json").exists()
