"""Review (resume21): resuming runs other than a plain ``trainlab train``."""

from __future__ import annotations

import pytest

from conftest import Killed, kill_after_checkpoint, run_cli, small_config
from trainlab.diagnostics.run import diagnose
from trainlab.runs import RunDir


def test_resumed_diagnose_run_reports_what_an_uninterrupted_diagnose_run_reports(
    tmp_path, monkeypatch, capsys
):
    # `trainlab diagnose` killed, then `trainlab resume DIR`: the report loses the diagnose
    # sections (per-model verdict table, activation histograms, per-layer profile), as nothing
    # on disk says the run is a diagnose run; it must equal the uninterrupted run's report.
    cfg = small_config(train={"epochs": 2, "batch_size": 1024}, population={"seeds": [0]})
    orig = kill_after_checkpoint(monkeypatch, 1)  # SIGKILL right after epoch 1's checkpoint
    with pytest.raises(Killed):
        diagnose(cfg, out=tmp_path / "run", every=1, epochs=2, progress=False, device="cpu")
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    code, _, err = run_cli(monkeypatch, capsys, "resume", tmp_path / "run", "--device", "cpu")
    assert code == 0, err
    run = tmp_path / "run"
    # what `trainlab diagnose` (uninterrupted) puts in figures/ and report.html
    figures = {p.name for p in (run / "figures").iterdir()}
    assert {"diag_histograms.png", "diag_profile.png"} <= figures
