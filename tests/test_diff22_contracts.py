"""Review diff22: today's changes (5c89d29..HEAD), regressions and incomplete fixes."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from conftest import run_cli, small_config
from trainlab.errors import UserError


def test_report_of_a_diagnose_run_with_a_corrupt_summary_is_one_line_not_a_traceback(
    tmp_path, monkeypatch, capsys
):
    # wrong: report_cmd's new diagnose branch reads summary.json with a bare json.loads, so a
    # corrupt one is a JSONDecodeError traceback (a train run's says "summary.json is corrupt
    # ...", exit 2); right: the same one-line error and exit 2 for a diagnose run
    from trainlab.train import train

    cfg = small_config(train={"epochs": 1, "batch_size": 1024}, population={"seeds": [0]})
    run = tmp_path / "d"
    train(cfg, out=run, progress=False, device="cpu")
    pop = json.loads((run / "population.json").read_text())
    # (what `trainlab diagnose --no-report` leaves: population.json says so)
    (run / "population.json").write_text(json.dumps({**pop, "command": "diagnose"}))
    (run / "summary.json").write_text("{bad")
    try:
        code, _, err = run_cli(monkeypatch, capsys, "report", run)
    except ValueError as exc:  # what the shell shows as a traceback
        pytest.fail(f"traceback instead of a one-line error: {exc!r}")
    assert code == 2 and "corrupt" in err, err


def test_nonfinite_verdict_does_not_blame_the_data_when_a_parameter_before_the_layer_is_nan():
    # wrong: the new "its input (the data batch) held NaN/Inf" is said of the first *watched*
    # layer whenever its own weights are finite, though the records show the root module's own
    # parameter (x * self.scale, before fc1) is NaN; right: blame the data only when nothing
    # recorded before/around the layer has non-finite weights
    from trainlab.diagnostics import verdict, watch

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))
            self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x * self.scale))

    m = Net()
    with torch.no_grad():
        m.scale[0] = float("nan")
    with watch(m, every=1) as w:
        m(torch.ones(5, 4)).sum().backward()
    (f,) = [f for f in verdict(w.records()) if f.check == "nonfinite"]
    assert "data batch" not in f.message, f.message


def test_nonfinite_verdict_does_not_blame_the_data_when_earlier_layers_were_not_watched():
    # wrong: with watch(layers=["1"]) the first watched layer is taken as the model's first, so
    # an Inf made by the unwatched layer '0' (weights 1e38) is blamed on "its input (the data
    # batch)"; right: say the input came from before the watched layers (or the data)
    from trainlab.diagnostics import verdict, watch

    m = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    with torch.no_grad():
        m[0].weight.fill_(1e38)
    with watch(m, every=1, layers=["1"]) as w:
        m(torch.ones(5, 4)).sum().backward()
    (f,) = [f for f in verdict(w.records()) if f.check == "nonfinite"]
    assert "data batch" not in f.message, f.message


def test_out_of_memory_in_a_study_does_not_tell_to_resume_the_cell(tmp_path, monkeypatch, capsys):
    # wrong: the new OOM note of train() reaches `trainlab study` unchanged: "the unfinished run
    # S/cells/X was kept: continue it with `trainlab resume S/cells/X` ..., or remove it to use
    # the same --out again" (resuming a cell does not finish the study, and removing the cell
    # does not free --out S); right: the study's own note, as for Ctrl-C and a full disk
    # ("the study in S is incomplete (studies do not resume)")
    from trainlab.train import Trainer

    def oom(self, idx):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1")

    monkeypatch.setattr(Trainer, "step_on", oom)
    out = tmp_path / "s"
    args = ["study", "init", "--quick", "--out", out, "--device", "cpu"]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and "out of memory" in err, err
    assert "trainlab resume" not in err and "use the same --out again" not in err, err


def test_resume_of_an_interrupted_study_folder_says_studies_do_not_resume(tmp_path):
    # wrong: the new study message needs results.json, which a study writes last, so the folder
    # a user actually tries to resume (a killed or failed study: .lock and cells/ only) still
    # gets "not a run directory: S (no config.yaml)"; right: say it is a study's folder and that
    # studies do not resume
    from trainlab.runs import RunDir
    from trainlab.studies import claim_study_dir

    root = claim_study_dir(tmp_path / "s")  # what a study makes first
    (root.path / "cells" / "digits-depth4-relu").mkdir(parents=True)
    with pytest.raises(UserError) as exc:
        RunDir(root.path).require()
    assert "study" in str(exc.value), exc.value
