"""errsweep18: user errors in the CLI that escape the one-line, exit-2 contract."""

import pytest

from conftest import SMALL_YAML as SMALL
from conftest import assert_user_error, config_file, run_cli


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("optim.lrr=0.1", "did you mean 'lr'"),
        ("optim.name=adamm", "did you mean 'adam'"),
        ("population.variants=[{optim.lrr: 0.1}]", "did you mean 'lr'"),
    ],
)
def test_schedule_refuses_an_optim_typo_that_train_refuses(
    monkeypatch, capsys, tmp_path, setting, needle
):
    # `trainlab schedule` prints an LR curve (exit 0) for a config `train` refuses: a typo'd
    # optim key or name is silently ignored (the variant is even labelled optim.lrr=0.1 while its
    # curve keeps the default lr); it must be the same one-line ConfigError, exit 2.
    small = config_file(tmp_path, SMALL)
    code, _, err = run_cli(monkeypatch, capsys, "schedule", small, "--set", setting)
    assert_user_error(code, err, needle)


def _files(run):
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name[0] != "."}


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("metrics.jsonl", '{"model": 0, "epoch": "x"}'),
        ("diagnostics.jsonl", '{"model": 0, "step": null, "layer": "0"}'),
    ],
)
def test_resume_with_a_jsonl_row_of_the_wrong_type_is_one_line(
    monkeypatch, capsys, tmp_path, name, line
):
    # resume compares each row's epoch/step with an int (train.py resume, kept_rows): a
    # row whose epoch is "x" or step is null is a TypeError traceback; `trainlab report` says
    # "record N has epoch='x', not a number". resume must say so in one line, exit 2.
    small = config_file(tmp_path, SMALL)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", small, "--out", out, "--diagnose", "--no-report"
    )
    assert code == 0, err
    path = out / name
    path.write_text(path.read_text() + line + "\n")
    before = _files(out)
    code, _, err = run_cli(monkeypatch, capsys, "resume", out, "--no-report")
    assert_user_error(code, err, name)
    assert _files(out) == before  # the run is left as it was
