"""Mutation review (mut38q) of ``trainlab pretrain`` (cli/pretrain.py), its progress helper
(pretrain/progress.py) and ``parse_grid``. Expected values come from the README's pre-training
section, the docstrings, ``--help`` and hand computations."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import run_cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pretrain_rbm.yaml"
TINY = [
    "--set",
    "train.n_iter=2",
    "--set",
    "model.n_components=8",
    "--set",
    "train.batch_size=200",
    "--set",
    "seeds=[0]",
]


@pytest.fixture
def log_file(monkeypatch):
    """stdout is a log file, not a terminal (rich: no redraws, a line per pass)."""
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def test_cli_writes_a_line_per_pass_the_run_directory_and_applies_grid_set_device(
    tmp_path, monkeypatch, capsys, log_file
):
    """README: the command counts the passes over the data (a line per pass in a log file);
    ``rbm`` trains one population over seeds x grid; ``--set train.n_iter=2`` overrides a key;
    ``--device`` is auto, cpu or cuda (--help). The last line names the run directory and its
    report.html."""
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        monkeypatch,
        capsys,
        "pretrain",
        EXAMPLE,
        *TINY,
        "--grid",
        "learning_rate=0.02,0.06",
        "--out",
        out,
        "--device",
        "cpu",
    )
    assert code == 0, err
    lines = stdout.splitlines()
    passes = [ln.split(" (")[0] for ln in lines if " pass " in ln]
    assert passes == ["rbm-digits pass 1/2", "rbm-digits pass 2/2"]  # n_iter=2, one population
    assert any("2/2 passes" in ln for ln in lines), stdout  # the bar, once, when it stops
    assert f"run directory: {out}  (report: {out / 'report.html'})" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert [m["learning_rate"] for m in summary["models"]] == [0.02, 0.06]  # 1 seed x 2 rates
    assert summary["diverged"] == [] and "diverged" not in stdout
    assert yaml.safe_load((out / "config.yaml").read_text())["device"] == "cpu"


def _fake_run(monkeypatch, diverged):
    """run_pretrain replaced by one that writes only summary.json with ``diverged``."""
    import trainlab.pretrain.run as run_mod

    def fake(config, *, out, **kw):
        out.mkdir(parents=True)
        (out / "summary.json").write_text(json.dumps({"diverged": diverged}))
        return out

    monkeypatch.setattr(run_mod, "run_pretrain", fake)


@pytest.mark.parametrize(
    ("diverged", "shown"),
    [
        ([3], "1 model(s) diverged (inf/NaN weights or training error): 3;"),
        (
            list(range(10)),
            "10 model(s) diverged (inf/NaN weights or training error): "
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9;",
        ),
        (
            list(range(12)),
            "12 model(s) diverged (inf/NaN weights or training error): "
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, …;",
        ),
    ],
)
def test_cli_names_at_most_ten_diverged_models(
    tmp_path, monkeypatch, capsys, log_file, diverged, shown
):
    """Up to ten diverged models are listed, more end in ", …" (hand-written lines)."""
    _fake_run(monkeypatch, diverged)
    out = tmp_path / "run"
    code, stdout, err = run_cli(monkeypatch, capsys, "pretrain", EXAMPLE, "--out", out)
    assert code == 0, err
    said = " ".join(stdout.split())
    assert shown in said, said
    assert said.count("…") == (len(diverged) > 10)
    assert "lower their learning_rate" in said


def test_cli_says_nothing_of_divergence_when_none_diverged(tmp_path, monkeypatch, capsys, log_file):
    _fake_run(monkeypatch, [])
    code, stdout, err = run_cli(monkeypatch, capsys, "pretrain", EXAMPLE, "--out", tmp_path / "r")
    assert code == 0, err
    assert "diverged" not in stdout and "run directory:" in stdout


def test_log_line_gives_each_pass_its_own_seconds(monkeypatch, capsys, log_file):
    """A line per pass, "NAME pass k/N (t s)", t the seconds of that pass alone: with a clock
    at 0, 1.5, 3.0, 10.0 the passes took 1.5, 1.5 and 7.0 s (hand computation)."""
    import trainlab.pretrain.progress as progress

    clock = iter([0.0, 1.5, 3.0, 10.0])
    monkeypatch.setattr(progress, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    with progress.passes_shown("x", 3, enabled=True):
        for _ in range(3):
            progress.pass_done()
    lines = [ln for ln in capsys.readouterr().out.splitlines() if " pass " in ln]
    assert lines == ["x pass 1/3 (1.5 s)", "x pass 2/3 (1.5 s)", "x pass 3/3 (7.0 s)"]
    assert progress._ON_PASS.get() is None  # the hook is removed when the body ends
    progress.pass_done()  # and then does nothing


def test_passes_shown_bar_ends_at_its_total(monkeypatch, capsys, log_file):
    """The bar counts ``total`` passes: in a log it appears once, "2/2 passes"."""
    from trainlab.pretrain.progress import pass_done, passes_shown

    with passes_shown("y", 2, enabled=True):
        pass_done()
        pass_done()
    out = capsys.readouterr().out
    assert "2/2 passes" in out and "y pass 2/2" in out


def test_parse_grid_docstring_example_and_edges():
    """Docstring: ``["learning_rate=0.01,0.1", "momentum=0,0.5"]`` -> floats per key."""
    from trainlab.pretrain.run import parse_grid

    got = parse_grid(["learning_rate=0.01,0.1", "momentum=0,0.5"])
    assert got == {"learning_rate": [0.01, 0.1], "momentum": [0.0, 0.5]}
    assert all(type(v) is float for vs in got.values() for v in vs)
    assert parse_grid(None) == {} and parse_grid([]) == {}
    # spaces around the key and an empty value between commas are ignored
    assert parse_grid([" weight_decay =0.001,,0.01,"]) == {"weight_decay": [0.001, 0.01]}


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (["learning_rate"], "key=v1,v2"),
        (["learning_rate="], "key=v1,v2"),
        (["learning_rate=  "], "key=v1,v2"),
        (["learning_rate=0.1", "learning_rate=0.2"], "given twice"),
        (["n_components=8,16"], "not one a population of RBMs can vary"),
        (["learning_rate=0.1=0.2"], "values must be numbers"),
        (["momentum=a,b"], "values must be numbers"),
    ],
)
def test_parse_grid_refuses(items, match):
    from trainlab.errors import ConfigError
    from trainlab.pretrain.run import parse_grid

    with pytest.raises(ConfigError, match=match):
        parse_grid(items)
