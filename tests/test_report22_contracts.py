"""Review findings for `trainlab report DIR` and report.html (reviewer: report22)."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from trainlab.config import parse_config


def _diagnose_run(tmp_path, *, report: bool = False):
    """A finished one-epoch `trainlab diagnose` run of a tiny digits MLP (two seeds)."""
    from trainlab.diagnostics.run import diagnose

    cfg = parse_config(
        {
            "name": "d",
            "model": {"name": "mlp", "hidden": [8]},
            "train": {"epochs": 1, "batch_size": 128},
            "population": {"seeds": [0, 1]},
        }
    )
    out = tmp_path / "run"
    diagnose(cfg, out=out, every=5, epochs=1, device="cpu", progress=False, report=report)
    return out


def _report_cli(monkeypatch, capsys, run_dir):
    """``trainlab report RUN_DIR`` as the shell runs it: (exit code, stderr); an exception
    escaping main() fails the test with its traceback."""
    code, _, err = run_cli(monkeypatch, capsys, "report", run_dir)
    return code, err


def _edit_summary(run_dir, edit):
    path = run_dir / "summary.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


# cli/core.py report_cmd: for a diagnose run without report_sections.json (`trainlab diagnose
# --no-report`, or one killed while its report was written) `trainlab report` goes straight to
# diagnostics.run.finish_diagnose with the raw summary.json / diagnostics.jsonl, skipping the
# checks report.rundata.read_run does for every other run. The same damage that gives one
# clear line for a `trainlab train` run ("summary.json: 'models' is not a list", "record 1 has
# step='0', not a number") here ends in a Python traceback (AttributeError / ValueError /
# TypeError in nan_stops, run_findings), exit code 1. Expected (issue 3, item 8; the
# brief's "damaged run dirs give one clear line"): exit 2, one line naming the file. Fix:
# read_run(run_dir) before finish_diagnose (and use its validated summary/diagnostics).
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d.__setitem__("models", "x"), id="models-not-a-list"),
        pytest.param(lambda d: d.__setitem__("models", [1]), id="model-not-an-object"),
        pytest.param(lambda d: d["models"][0].__setitem__("index", "a"), id="index-text"),
    ],
)
def test_report_of_a_diagnose_run_with_a_damaged_summary_is_one_line(
    tmp_path, monkeypatch, capsys, damage
):
    run = _diagnose_run(tmp_path)
    assert not (run / "report_sections.json").exists()
    _edit_summary(run, damage)
    code, err = _report_cli(monkeypatch, capsys, run)
    assert "Traceback" not in err, err[-1200:]
    assert code == 2, (code, err[-1200:])
    assert "summary.json" in err, err
    assert len(err.strip().splitlines()) <= 2, err


# Same path, damaged diagnostics.jsonl: a record whose step is text or null, or whose model
# is text. read_run refuses these with "diagnostics.jsonl record 1 has step='0', not a
# number" for any other run (and did for this one once report_sections.json existed); here
# finish_diagnose -> read_records does not check them and run_findings crashes.
@pytest.mark.parametrize(
    "old, new",
    [
        ('"step": 0,', '"step": "0",'),
        ('"step": 0,', '"step": null,'),
        ('"model": 0,', '"model": "a",'),
    ],
    ids=["step-text", "step-null", "model-text"],
)
def test_report_of_a_diagnose_run_with_a_damaged_diagnostics_file_is_one_line(
    tmp_path, monkeypatch, capsys, old, new
):
    run = _diagnose_run(tmp_path)
    path = run / "diagnostics.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    assert old in lines[0]
    lines[0] = lines[0].replace(old, new, 1)
    path.write_text("".join(lines))
    code, err = _report_cli(monkeypatch, capsys, run)
    assert "Traceback" not in err, err[-1200:]
    assert code == 2, (code, err[-1200:])
    assert "diagnostics.jsonl" in err, err
    assert len(err.strip().splitlines()) <= 2, err


# report/html.py _study_sections: a diagnose run whose report lost a figure (figures/ cleaned,
# copied without it) is refused with "re-run the study that made it, or remove its entry from
# report_sections.json". A diagnose run is not a study: there is none to re-run, and removing
# the entry drops the figure for good, although it is made from diagnostics.jsonl, which is
# intact (deleting report_sections.json and running `trainlab report DIR` rebuilds it: the
# diagnose branch of report_cmd). Expected: `trainlab report` rebuilds the figure, or the
# message names a fix that applies to a diagnose run (no "study"). Fix: a made_by for diagnose
# runs (as pretrain has one), e.g. "delete report_sections.json and run `trainlab report DIR`",
# or let report_cmd take the diagnose branch when a diagnose figure is missing.
def test_missing_figure_of_a_diagnose_report_names_a_fix_for_a_diagnose_run(
    tmp_path, monkeypatch, capsys
):
    run = _diagnose_run(tmp_path, report=True)
    (run / "figures" / "diag_profile.png").unlink()
    code, err = _report_cli(monkeypatch, capsys, run)
    assert "Traceback" not in err, err[-1200:]
    if code == 0:  # rebuilt from diagnostics.jsonl
        assert (run / "figures" / "diag_profile.png").is_file()
        return
    assert code == 2, (code, err)
    assert "study" not in err, err
    assert "trainlab report" in err or "trainlab diagnose" in err, err


# A diagnose run trained longer (`trainlab resume` after raising train.epochs in config.yaml,
# which README allows) and stopped before the end: resume unlinks summary.json but keeps the
# report_sections.json its first finish wrote. `trainlab report` then shows two "Health
# verdict" tables that disagree: the per-model one from report_sections.json, computed at the
# old end (step 10 here), and the standard one computed from diagnostics.jsonl as it is now
# (step 30), e.g. model 0's update/weight ratio 1.2e-07 in one and 5.7e-08 in the other (and
# histograms/profile of the old last step). Expected: one verdict per report, the current one
# (every verdict the report shows agrees with the run's files). Fix: resume drops a diagnose
# run's report_sections.json when it unlinks summary.json (finish_diagnose writes it again),
# or build_report leaves a diagnose run's sections out while it is incomplete.
def test_report_of_a_diagnose_run_trained_longer_and_stopped_has_no_stale_verdict(
    tmp_path, monkeypatch
):
    from trainlab.diagnostics.run import read_records, run_findings
    from trainlab.report import build_report
    from trainlab.report.rundata import read_run
    from trainlab.train import Trainer, resume

    run = _diagnose_run(tmp_path, report=True)
    cfg = run / "config.yaml"
    cfg.write_text(cfg.read_text().replace("epochs: 1", "epochs: 4", 1))
    real, calls = Trainer.train_epoch, []

    def stopped(self, *a, **kw):  # the process dies in the third epoch
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *a, **kw)

    monkeypatch.setattr(Trainer, "train_epoch", stopped)
    with pytest.raises(KeyboardInterrupt):
        resume(run, device="cpu", progress=False, on_note=lambda s: None)
    monkeypatch.setattr(Trainer, "train_epoch", real)
    assert not (run / "summary.json").exists()

    build_report(run)
    data = read_run(run)
    findings = run_findings(read_records(run), {"models": data.model_results()})
    current = {(f.model, f.check): f.message for f in findings}
    for sec in (data.sections or {}).get("sections", []):
        if sec.get("kind") == "table" and sec.get("title") == "Health verdict":
            for row in sec["rows"]:
                r = dict(zip(sec["columns"], row, strict=True))
                assert r["detail"] == current[(r["model"], r["check"])], (r, current)
