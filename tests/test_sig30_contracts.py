"""Review (sig30): Ctrl-C / SIGTERM between a finished training run's summary.json and its report.

`trainlab train` (and `diagnose`, and `resume`) write summary.json at the end of ``fit``; the CLI
then prints the summary table (``_finish``) or computes the verdict (``finish_diagnose``) before
it enters ``reporting(run_dir)``, the only note for a complete run. A Ctrl-C (or a SIGTERM, made
the same KeyboardInterrupt) in that window -- seen with a real SIGTERM to `trainlab train` right
after summary.json appeared -- prints "nothing was written to continue from; run the command
again", which is false: the run folder is complete, and running the same command again is
refused ("run directory ... already exists"). README: interrupted while the report is written, a
finished run says `trainlab report DIR` writes it.
"""

from __future__ import annotations

from conftest import SMALL_YAML, config_file, raise_ctrl_c, run_cli


def _line(err: str) -> str:
    return " ".join(err.split())


# Wrong: cli/core.py _finish prints summary_table(...) (after summary.json is written, before
# `with reporting(run_dir)`), so a Ctrl-C there says "nothing was written to continue from; run
# the command again"; right: the line names the complete run and `trainlab report DIR`, as a
# Ctrl-C a moment later (inside build_report) does. Fix: enter reporting(run_dir) at the top of
# _finish (or wrap train/resume's whole post-fit part in it).
def test_ctrl_c_while_train_prints_its_summary_names_trainlab_report(tmp_path, monkeypatch, capsys):
    import trainlab.cli.core

    cfg = config_file(tmp_path, SMALL_YAML)
    out = tmp_path / "run"
    monkeypatch.setattr(trainlab.cli.core, "summary_table", raise_ctrl_c)
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg, "--device", "cpu", "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    line = _line(err)
    assert "nothing was written" not in line, line
    assert f"trainlab report {out}" in line, line


# Wrong: diagnostics/run.py finish_diagnose reads the records and computes run_findings before
# `with reporting(run_dir)`; a Ctrl-C there (reading a large diagnostics.jsonl takes a while)
# says "nothing was written ...; run the command again", though the diagnose run is complete
# and `trainlab diagnose --out DIR` again is refused; right: `trainlab report DIR` (which
# rebuilds a diagnose run's verdict and report). Fix: open reporting(run_dir) first.
def test_ctrl_c_while_diagnose_computes_its_verdict_names_trainlab_report(
    tmp_path, monkeypatch, capsys
):
    import trainlab.diagnostics.run

    cfg = config_file(tmp_path, SMALL_YAML)
    out = tmp_path / "diag"
    real, calls = trainlab.diagnostics.run.run_findings, []

    def second_call_interrupted(*args, **kwargs):  # the 1st: verdict.json inside fit; the 2nd:
        calls.append(1)  # finish_diagnose's, after the run is complete
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trainlab.diagnostics.run, "run_findings", second_call_interrupted)
    code, _, err = run_cli(
        monkeypatch, capsys, "diagnose", cfg, "--device", "cpu", "--out", out, "--epochs", "1"
    )
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    line = _line(err)
    assert "nothing was written" not in line, line
    assert f"trainlab report {out}" in line, line


# `trainlab report DIR` interrupted: the run's files are intact (the report is the only thing
# written); "nothing was written to continue from" was not quite it: the line names the command
def test_ctrl_c_during_trainlab_report_names_trainlab_report(tmp_path, monkeypatch, capsys):
    import trainlab.report

    cfg = config_file(tmp_path, SMALL_YAML)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--device", "cpu", "--out", out, "--no-report"
    )
    assert code in (0, None), err[-1500:]
    monkeypatch.setattr(trainlab.report, "build_report", raise_ctrl_c)
    code, _, err = run_cli(monkeypatch, capsys, "report", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    line = _line(err)
    assert "nothing was written" not in line and f"trainlab report {out}" in line, line
