"""Review findings (quicktimes32): the studies' quick runs and their output folders."""

from __future__ import annotations

from conftest import run_cli
from test_studies_pretraining import tiny_study


# Wrong: runs.py RunDir.require recognises a study's folder by its results.json (written last)
# or its cells/ folder, and then says "a study does not resume; run `trainlab study NAME` again".
# Six studies write results.json; `pretraining` alone writes its results to summary.json and has
# no cells/, so `trainlab resume` on a finished (or interrupted) pretraining study folder says
# only "not a run directory: DIR (no config.yaml)" (reproduced on the real
# `trainlab study pretraining --quick`; the clipping folder gets the study message). pretraining.py
# even comments "(last: results.json is written before it)". Right: the same message as for every
# other study, naming it a study's folder that does not resume (tests/test_diff22_contracts.py's
# contract). Fix: write results.json in pretraining (as the other six), or also recognise it.
# The study is shrunk as tests/test_studies_pretraining.py does (same code path, ~2 s).
def test_resume_of_a_pretraining_study_folder_says_it_is_a_study(tmp_path, monkeypatch, capsys):
    out = tiny_study(tmp_path, monkeypatch)
    assert (out / "report.html").is_file()
    code, _, err = run_cli(monkeypatch, capsys, "resume", out)
    assert code != 0
    assert "study's folder" in err and "does not resume" in err, err
