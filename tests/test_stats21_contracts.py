"""Review (stats21): the numbers a researcher quotes — summary.json aggregates, report/CLI
tables. Each test fails on the code it was written against."""

from __future__ import annotations

import json

from conftest import small_config
from trainlab.train import load_run, train


def test_returned_summary_equals_summary_json_with_a_nan_stopped_model(tmp_path):
    # train() returns final metrics NaN (float) for a NaN-stopped model while summary.json and
    # load_run(...).summary hold null: the API, the file and the reloaded run must agree (the
    # summary returned should be the JSON-clean one that was written)
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.05},
        train={"epochs": 1, "batch_size": 256},
        population={"seeds": [0], "variants": [{"optim.lr": 0.05}, {"optim.lr": 1e30}]},
    )
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    assert result.summary["models"][1]["status"] == "nan"
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert result.summary == on_disk
    assert load_run(tmp_path / "run").summary == result.summary


def test_optimizers_study_accuracy_text_says_diverged_seeds_count_as_zero():
    # the claims' accuracy text averaged a diverged seed in as 0% without a word, while the
    # loss texts beside it leave such seeds out and count them: say how they were counted
    from trainlab.studies.optimizers import _ms_acc

    ok = {"status": "ok", "final": {"test_acc": 0.9}}
    nan = {"status": "nan", "final": {"test_acc": None}}
    text = _ms_acc([ok, ok, nan])
    assert "1 of 3 seeds diverged, counted as 0%" in text
    assert text.startswith("60.0%")
    assert "diverged" not in _ms_acc([ok, ok])
