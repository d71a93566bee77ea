"""Review of trainlab's user-facing error messages (reviewer errors35)."""

from __future__ import annotations

import json

import pytest

from trainlab.errors import UserError


# report/rundata.py read_run: given a file inside a run folder (checkpoints/last.pt,
# figures/x.png), the message says "pass its folder (<run>/checkpoints)". Following that fix
# fails again ("not a run directory: run/checkpoints (no population.json ...)"): the folder to
# pass is the run folder above it, the nearest parent that holds population.json (as
# RunDir.require, used by resume, already finds: "pass its run's folder (run)").
def test_report_on_a_file_inside_a_run_names_the_run_folder(tmp_path):
    from trainlab.report.rundata import read_run

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "population.json").write_text(json.dumps({"models": []}))
    (run / "config.yaml").write_text("{}\n")
    ckpt = run / "checkpoints" / "last.pt"
    ckpt.write_bytes(b"x")
    with pytest.raises(UserError) as info:
        read_run(ckpt)
    msg = str(info.value)
    assert f"({run})" in msg, msg
    assert f"({run / 'checkpoints'})" not in msg, msg


# runs.py RunDir.require (resume, load_run): a path that does not exist at all (a typo) is
# reported as "not a run directory: nodir (no config.yaml)", as if the folder were there
# without its config; `trainlab report nodir` says "(no such directory)". The message should
# say the folder does not exist.
def test_resume_of_a_missing_folder_says_it_does_not_exist(tmp_path):
    import trainlab

    with pytest.raises(UserError) as info:
        trainlab.load_run(tmp_path / "nodir")
    msg = str(info.value)
    assert "no such" in msg or "does not exist" in msg or "not found" in msg, msg


# `trainlab train --out base.yaml` where base.yaml is a file said "run directory base.yaml
# already exists ... (or move the old one away)": it is no run directory; the message says
# what it is (the file is left as it was).
def test_train_out_naming_a_file_says_it_is_a_file(tmp_path, monkeypatch):
    import trainlab
    from trainlab.errors import UserError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text("keep\n")
    cfg = {"model": {"name": "mlp", "hidden": [4]}, "train": {"epochs": 1}}
    with pytest.raises(UserError, match="is a file, not a folder"):
        trainlab.train(cfg, out="base.yaml", progress=False)
    assert (tmp_path / "base.yaml").read_text() == "keep\n"
