"""Mutation review (mut38d) of trainlab.diagnostics.run and trainlab.cli.diagnose: defaults,
bounds and folding rules the other tests left free. Expected values come from the docstrings
(diagnose, _never_moved, nan_stops, with_trainer_stops, run_findings), README and the
`trainlab diagnose --help` text, never from running trainlab for a reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SMALL_YAML, config_file, run_cli, small_config
from trainlab.diagnostics.run import (
    _never_moved,
    diagnose,
    is_diagnose_run,
    nan_stops,
    run_findings,
    with_trainer_stops,
)
from trainlab.diagnostics.verdict import Finding
from trainlab.errors import UserError


class _Stop(Exception):
    pass


@pytest.fixture
def captured(monkeypatch):
    """Replace the trainer that diagnose() calls: record the config it would train, then stop
    (no training runs)."""
    seen: list = []

    def fake_train(cfg, **kwargs):
        seen.append(cfg)
        raise _Stop

    import importlib

    monkeypatch.setattr(importlib.import_module("trainlab.train"), "train", fake_train)
    return seen


def _cfg_of(captured, config, **kwargs):
    with pytest.raises(_Stop):
        diagnose(config, out="/nonexistent-never-written", progress=False, **kwargs)
    return captured[-1]


# ---- diagnose(): defaults and bounds --------------------------------------------------------


# Kills run.py:68 (every default 10 -> 5) and :101 (`or 10` -> `or 5`): "every: sample one
# training step in every (None: the config's train.diagnose_every, else 10)".
def test_diagnose_samples_one_step_in_10_by_default(captured):
    assert _cfg_of(captured, small_config()).train.diagnose_every == 10
    assert _cfg_of(captured, small_config(), every=None).train.diagnose_every == 10
    own = small_config(train={"diagnose_every": 7})
    assert _cfg_of(captured, own, every=None).train.diagnose_every == 7


# Kills run.py:92 (every < 1 -> every < 0): --every must be a positive int.
def test_diagnose_refuses_every_0(captured):
    with pytest.raises(UserError, match="positive int"):
        diagnose(small_config(), out="/nonexistent-never-written", every=0, progress=False)
    assert captured == []


# Kills run.py:97 (1 <= epochs -> 0 <=, and <= MAX_EPOCHS -> <): epochs in 1..MAX_EPOCHS,
# both ends included (the message says "1..1,000,000").
def test_diagnose_epochs_bounds_are_inclusive(captured):
    for bad in (0, 1_000_001):
        with pytest.raises(UserError, match=r"1\.\.1,000,000"):
            diagnose(small_config(), out="/nonexistent-never-written", epochs=bad)
    assert captured == []
    big = small_config(train={"epochs": 1})
    assert _cfg_of(captured, big, epochs=1_000_000).train.epochs == 1_000_000
    assert _cfg_of(captured, big, epochs=1).train.epochs == 1


# Kills run.py:105 (schedule_epochs not set) and :102 (drop `schedule_epochs is None`): README
# "its short training follows the first epochs of the config's own schedule, not the schedule
# squeezed into them"; a schedule_epochs the config gives is its own schedule, kept.
def test_diagnose_keeps_the_configs_schedule_length(captured):
    got = _cfg_of(captured, small_config(train={"epochs": 10}), epochs=2).train
    assert (got.epochs, got.schedule_epochs) == (2, 10)
    own = small_config(train={"epochs": 10, "schedule_epochs": 20})
    got = _cfg_of(captured, own, epochs=2).train
    assert (got.epochs, got.schedule_epochs) == (2, 20)


# ---- trainlab diagnose CONFIG: option defaults -------------------------------------------------


def _cli_cfg(monkeypatch, capsys, captured, tmp_path, *args, text=SMALL_YAML):
    path = config_file(tmp_path, text)
    with pytest.raises(_Stop):
        run_cli(monkeypatch, capsys, "diagnose", path, "--out", tmp_path / "run", *args)
    assert captured, "diagnose did not reach the trainer"
    return captured[-1].train


# Kills diagnose.py:54 (DEFAULT_EPOCHS -> None), :56 (every_n = 10 -> None) and run.py:61
# (DEFAULT_EPOCHS 3 -> 2): --help "[default: 3, or --set train.epochs]" and "[default: 10, or
# --set train.diagnose_every]" -- the YAML's own values are not the defaults.
def test_cli_defaults_are_3_epochs_and_every_10(monkeypatch, capsys, captured, tmp_path):
    text = SMALL_YAML.replace("epochs: 1,", "epochs: 5, diagnose_every: 50,")
    assert "diagnose_every: 50" in text
    t = _cli_cfg(monkeypatch, capsys, captured, tmp_path, text=text)
    assert (t.epochs, t.diagnose_every) == (3, 10)


# Kills diagnose.py:53/:55 (drop the `not in given` tests): --set train.epochs / diagnose_every
# give the value when the option is not given.
def test_cli_set_gives_epochs_and_every(monkeypatch, capsys, captured, tmp_path):
    t = _cli_cfg(
        monkeypatch, capsys, captured, tmp_path,
        "--set", "train.epochs=2", "--set", "train.diagnose_every=3",
    )  # fmt: skip
    assert (t.epochs, t.diagnose_every) == (2, 3)


# ---- print_diagnose ----------------------------------------------------------------------------


# Kills diagnose.py:70 (names another file) and :71 (a "report:" line with no report).
def test_print_diagnose_names_the_records_and_no_report_when_none(capsys, tmp_path):
    from trainlab.cli.diagnose import print_diagnose
    from trainlab.diagnostics.run import DiagnoseResult

    run = tmp_path / "r"
    capsys.readouterr()
    print_diagnose(DiagnoseResult(run, [Finding("nonfinite", "ok", 0, "fine")], [], None))
    out = " ".join(capsys.readouterr().out.split())
    assert str(run / "diagnostics.jsonl") in out
    assert "report:" not in out


# ---- a real tiny diagnose run -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("mut38d")
    cfg = small_config(train={"epochs": 1, "batch_size": 256}, model={"hidden": [8]})
    with_report = diagnose(cfg, out=base / "rep", every=2, epochs=1, progress=False)
    without = diagnose(cfg, out=base / "norep", every=2, epochs=1, progress=False, report=False)
    return with_report, without


# Kills run.py:315 (histogram figure skipped), :133 (report written with report=False) and
# :122 (is_diagnose_run true for any population command).
def test_tiny_diagnose_run_writes_its_report_only_when_asked(tiny_runs, tmp_path):
    rep, norep = tiny_runs
    assert (rep.run_dir / "figures" / "diag_histograms.png").is_file()
    assert (rep.run_dir / "figures" / "diag_profile.png").is_file()
    assert norep.report is None and not (norep.run_dir / "report.html").exists()
    assert is_diagnose_run(rep.run_dir)
    other = tmp_path / "other"
    other.mkdir()
    pop = json.loads((rep.run_dir / "population.json").read_text())
    pop["command"] = "train"
    (other / "population.json").write_text(json.dumps(pop))
    assert not is_diagnose_run(other)


# Kills run.py:309 (layer column emptied): the report's verdict table names a finding's layer.
def test_report_table_names_the_layer(tiny_runs):
    from trainlab.diagnostics.run import _write_report

    rep, _ = tiny_runs
    bad = Finding("dead_relu", "warn", 0, "dead", step=2, layer="act_xyz", value=0.5)
    _write_report(Path(rep.run_dir), rep.records, [bad])
    sections = json.loads((rep.run_dir / "report_sections.json").read_text())["sections"]
    (table,) = [s for s in sections if s["kind"] == "table"]
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert row["layer"] == "act_xyz"


# ---- _never_moved --------------------------------------------------------------------------


def _rec(layer, update, grad, model=0, step=0):
    return {"model": model, "step": step, "layer": layer, "update_ratio": update,
            "grad_norm": grad}  # fmt: skip


_OK = Finding("update_ratio", "ok", 0, "no update", step=4)


def _status(findings, records, status="ok"):
    summary = {"models": [{"index": 0, "status": status}]}
    (f,) = _never_moved(findings, records, summary)
    return f


# Kills run.py:191 (drop the grad_norm test), :193 (drop `- moved` / `running &`), :201
# (step dropped): only a running model whose gradient flows while no sampled step moved it
# warns, at the finding's step.
def test_never_moved_needs_a_running_model_with_gradients_and_no_move():
    f = _status([_OK], [_rec("fc", 0.0, 0.5, step=4)])
    assert (f.status, f.step, f.value) == ("warn", 4, 0.0)
    assert "too small" in f.message
    assert _status([_OK], [_rec("fc", 0.0, 0.5, step=4)], "early_stopped").status == "warn"
    assert _status([_OK], [_rec("fc", 0.0, 0.0)]) == _OK  # no gradient flows
    assert _status([_OK], [_rec("fc", 0.0, None)]) == _OK
    moved = [_rec("fc", 0.0, 0.5), _rec("out", 1e-3, 0.5)]
    assert _status([_OK], moved) == _OK
    assert _status([_OK], [_rec("fc", 0.0, 0.5)], "nan") == _OK  # stopped by the trainer
    assert _status([_OK], [_rec("fc", 0.0, 0.5)], "stopped") == _OK


# Kills run.py:196 (status == "ok" -> != "fail"): only the "no update" (ok) finding is replaced,
# a warning the verdict gave stays as it is.
def test_never_moved_leaves_a_warning_alone():
    warn = Finding("update_ratio", "warn", 0, "too large at step 2", step=2, value=0.5)
    assert _status([warn], [_rec("fc", 0.0, 0.5)]) == warn


# ---- nan_stops / with_trainer_stops / run_findings -------------------------------------------


# Kills run.py:216 (status == "nan" dropped): an early-stopped model is no NaN stop.
def test_nan_stops_only_count_nan_models():
    summary = {"models": [{"index": 0, "status": "early_stopped", "stopped_step": 9},
                          {"index": 1, "status": "nan", "stopped_step": 4}]}  # fmt: skip
    assert nan_stops(summary) == {1: 4}


# Kills run.py:250 (stop - 1 -> stop): an evaluation stop at S ran no step S; the hint says
# step S - 1 "was sampled" only where S - 1 was.
def test_evaluation_stop_hint_looks_at_the_step_before():
    def msg(sampled):
        (f,) = with_trainer_stops([], {0: 6}, {0: sampled}, {0})
        return f.message

    assert "step 5 was sampled" in msg({0, 5})
    assert "step 5's loss and gradient were finite" in msg({0, 6})


# Kills run.py:273 (seen.status == "fail" -> != "ok"): a nonfinite warning (an inf output
# gradient) is replaced by the trainer's fail at its stop step.
def test_a_nonfinite_warning_is_replaced_by_the_stop():
    warn = Finding("nonfinite", "warn", 0, "inf output gradient", step=8, layer="fc")
    (f,) = with_trainer_stops([warn], {0: 3}, {0: {0}})
    assert (f.status, f.step, f.layer) == ("fail", 3, None)


# Kills run.py:288 (default len(out) -> 0): a model with no findings yet goes after the others.
def test_a_stop_of_a_model_without_findings_goes_last():
    findings = [Finding("dead_relu", "ok", 0, "m0"), Finding("dead_relu", "ok", 1, "m1")]
    out = with_trainer_stops(findings, {2: 3})
    assert [(f.model, f.check) for f in out] == [(0, "dead_relu"), (1, "dead_relu"),
                                                  (2, "nonfinite")]  # fmt: skip


# Kills run.py:160 (sizes[1] + sizes[2] -> sizes[1]; `sizes is None or` -> `is not None and`): a
# run with a test split but no val split, or with unknown sizes, holds data out ("val/test").
def test_evaluation_stop_with_a_test_split_or_unknown_sizes_says_val_test():
    summary = {"models": [{"index": 0, "status": "nan", "stopped_step": 6,
                           "stopped_by": "evaluation"}]}  # fmt: skip
    for sizes in ([100, 0, 20], None):
        (f,) = [f for f in run_findings([], summary, sizes) if f.check == "nonfinite"]
        assert "val/test loss NaN/Inf after step 5" in f.message, sizes
