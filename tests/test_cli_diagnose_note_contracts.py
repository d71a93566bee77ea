"""``trainlab train --diagnose`` on a run shorter than its sampling interval (one step in 50 by
default) records step 0 only: its verdict judges the first update. The CLI says so and names
the setting that samples more."""

from __future__ import annotations

import json

from conftest import config_file, run_cli

SMALL = """
name: shortdiag
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 256}
population: {seeds: [0]}
"""


def _train_diagnose(monkeypatch, capsys, tmp_path, cfg: str):
    """``trainlab train CFG --diagnose`` into ``tmp_path/run``: (run dir, stdout, stderr)."""
    out = tmp_path / "run"
    code, text, err = run_cli(
        monkeypatch, capsys, "train", config_file(tmp_path, cfg), "--diagnose", "--out", out,
        "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 0, err[-1500:]
    return out, text, err


def _steps(out) -> set[int]:
    lines = (out / "diagnostics.jsonl").read_text().splitlines()
    return {json.loads(line)["step"] for line in lines if line}


def test_a_run_shorter_than_the_interval_is_told_it_sampled_step_0_only(
    monkeypatch, capsys, tmp_path
):
    out, text, err = _train_diagnose(monkeypatch, capsys, tmp_path, SMALL)
    steps = json.loads((out / "summary.json").read_text())["steps"]
    assert 1 < steps <= 50  # digits' training split in batches of 256: a handful of steps
    assert _steps(out) == {0}
    said = " ".join((text + err).split())
    assert f"diagnostics sampled step 0 only (one step in 50; the run took {steps})" in said
    assert "--set train.diagnose_every=1 samples more" in said  # steps // 10 == 0 -> 1


def test_a_run_that_samples_more_than_step_0_gets_no_note(monkeypatch, capsys, tmp_path):
    cfg = SMALL.replace("batch_size: 256}", "batch_size: 256, diagnose_every: 2}")
    out, text, err = _train_diagnose(monkeypatch, capsys, tmp_path, cfg)
    assert len(_steps(out)) > 1
    assert "sampled step 0 only" not in text + err
