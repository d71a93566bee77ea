"""Review read29d: run-directory reading (src/trainlab/report/rundata.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainlab.config import load_config
from trainlab.errors import UserError
from trainlab.report.rundata import read_run


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    pop = {"k": 1, "models": [{"index": 0, "seed": 0, "overrides": {}}]}
    (run / "population.json").write_text(json.dumps(pop))
    return run


# read_run checks summary.json's 'epochs' (an int, else a UserError "not an integer; delete
# the file") only AFTER it used it in `(summ.get("epochs") or 0) > 0`, which it reaches when
# metrics.jsonl is missing or empty. A damaged summary.json with "epochs": "2" (or a list)
# then ends `trainlab report` in a TypeError traceback instead of the one-line UserError the
# same file gets when metrics.jsonl is present. Expected: the UserError naming summary.json.
@pytest.mark.parametrize("epochs", ['"2"', "[2]"])
def test_summary_epochs_not_a_number_without_metrics_is_a_user_error(tmp_path, epochs):
    run = _run_dir(tmp_path)
    (run / "summary.json").write_text(
        '{"models": [{"index": 0, "status": "ok"}], "epochs": ' + epochs + "}"
    )
    with pytest.raises(UserError, match="summary.json"):
        read_run(run)


# read_run reads config.yaml with Path.read_text() (the locale's codec, no BOM handling),
# while load_config (what `trainlab resume` reads the same file with) decodes UTF-16/UTF-32
# by their byte-order mark ("what Windows PowerShell's > writes", config._decode). A run's
# config.yaml edited as the docs advise (raise train.epochs, then resume) and saved as
# UTF-16 resumes and trains, and then its report -- the CLI's own at the end of the resume
# and every `trainlab report` -- fails with "config.yaml is corrupt (UnicodeDecodeError);
# restore it". Expected: the report reads the file resume accepted (same decoding).
def test_report_reads_a_utf16_config_that_resume_accepts(tmp_path):
    run = _run_dir(tmp_path)
    text = "name: läuft\ndata:\n  name: digits\nmodel:\n  name: mlp\ntrain:\n  epochs: 3\n"
    (run / "config.yaml").write_bytes(text.encode("utf-16"))
    assert load_config(run / "config.yaml").train.epochs == 3  # resume's reader takes it
    data = read_run(run)
    assert data.config["train"]["epochs"] == 3
    assert data.planned_epochs == 3
    assert data.name == "läuft"
