"""Review journey29: a Python session (lr_find, train with diagnose, edit epochs + resume,
load_run, build_report, verdict, report tables) on digits."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("torch")


def _cfg() -> dict:
    return {
        "name": "j29",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "adam", "lr": 1e-2},
        "train": {"epochs": 1, "batch_size": 200, "diagnose_every": 5},
        "population": {"seeds": [0, 1]},
    }


# A report built after a 1-epoch run is left in place, unchanged, when `resume` (from Python)
# trains the run on to an edited `train.epochs: 3`. resume already deletes the stale
# summary.json (and a diagnose run's verdict sections) because they describe the old end, but
# report.html keeps saying "Run complete", "epochs 1" and the epoch-1 test accuracies, which no
# longer agree with summary.json / metrics.jsonl (and, were resume killed midway, would claim
# a complete run that is not). Expected: after a resume that trains further, report.html is
# either gone (as summary.json is while training) or describes the 3-epoch run.
def test_resume_longer_does_not_leave_stale_report(tmp_path):
    from trainlab.report import build_report
    from trainlab.train import resume, train

    out = tmp_path / "run"
    train(_cfg(), out=out, device="cpu", progress=False)
    build_report(out)
    text = (out / "config.yaml").read_text().replace("epochs: 1", "epochs: 3")
    (out / "config.yaml").write_text(text)
    with pytest.warns(UserWarning, match="train.epochs changed"):
        resume(out, progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 3
    report = out / "report.html"
    if report.exists():
        html = report.read_text()
        shown = re.findall(r"epochs</th><td>(\d+)", html)
        assert shown == ["3"], f"report.html still shows epochs {shown} after resuming to 3"
