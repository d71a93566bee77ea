"""Review: what trainlab prints while and after it trains (progress bar, per-epoch lines, the
final summary, the paths it names, its warnings)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import run_cli, small_config

ROOT = Path(__file__).resolve().parent.parent


def _write_config(path: Path, name: str, epochs: int = 1, population: str = "seeds: [0]") -> Path:
    path.write_text(
        f"name: '{name}'\nmodel: {{name: mlp, hidden: [8]}}\n"
        f"train: {{epochs: {epochs}, batch_size: 128}}\npopulation: {{{population}}}\n"
    )
    return path


def test_names_and_out_paths_with_colon_words_are_printed_as_written(monkeypatch, capsys, tmp_path):
    """A run name and an ``--out`` folder are plain text (the config only refuses '/', '\\'
    and '..' in a name): ``relu:vs:tanh`` is a natural name for a comparison run. What
    ``trainlab train`` prints must name them as written, in the per-epoch line, the summary
    title and the ``run directory:`` line, so that a user (or a script) can find the folder.
    rich's consoles replace ``:vs:`` with the 🆚 emoji (``escape`` only escapes markup), so
    the printed run directory is a folder that does not exist."""
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):  # a log, not a terminal
        monkeypatch.delenv(var, raising=False)
    cfg = _write_config(tmp_path / "c.yaml", "relu:vs:tanh")
    out = tmp_path / "relu:vs:tanh"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
    )
    assert code == 0, err[-2000:]
    assert out.is_dir()
    assert "🆚" not in stdout, stdout
    assert "relu:vs:tanh epoch 1/1: val_acc" in stdout, stdout
    assert "relu:vs:tanh: 1 models" in stdout, stdout
    # (joined: a long path is also folded at 80 columns, another test's matter)
    assert f"run directory: {out}" in stdout.replace("\n", ""), stdout


def test_a_user_error_names_the_file_as_given(monkeypatch, capsys, tmp_path):
    """A user error is one line that names what the user gave (conftest's
    ``assert_user_error``: the needle must be in it). A config path with colon-separated words
    (``xavier:vs:he.yaml``) is printed by the error console with rich's emoji codes replaced
    (``xavier🆚he.yaml``), so the message names a file that the user never passed."""
    missing = tmp_path / "xavier:vs:he.yaml"
    code, _, err = run_cli(monkeypatch, capsys, "train", missing)
    assert code == 2, err
    assert "Traceback" not in err, err
    assert str(missing) in err, err


@pytest.fixture(scope="module")
def log_run(tmp_path_factory):
    """``trainlab train`` as a batch job runs it: stdout redirected to a log file (not a
    terminal, no COLUMNS), a realistic run name and a nested --out folder."""
    tmp = tmp_path_factory.mktemp("log")
    name = "digits-mlp-xavier-vs-he-lr-sweep-2024-05-01"
    # an lr grid whose large lr diverges: the lines say "2/4 training", as a sweep's do
    grid = "seeds: [0, 1], grid: {optim.lr: [0.01, 1.0e+30]}"
    cfg = _write_config(tmp / "c.yaml", name, epochs=2, population=grid)
    out = tmp / "experiments" / "2024-05-01" / "digits-mlp-xavier-vs-he" / "lr-sweep" / "run"
    env = {k: v for k, v in os.environ.items()}
    for var in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(var, None)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    log = tmp / "train.log"
    with open(log, "w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "trainlab", "train", str(cfg), "--out", str(out),
             "--device", "cpu", "--no-report"],
            stdout=fh, stderr=subprocess.PIPE, text=True, env=env, timeout=120, cwd=tmp,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return name, out, log.read_text().splitlines()


def test_each_epoch_is_one_whole_line_in_a_log_file(log_run):
    """Without a terminal (nohup, a batch job) the trainer prints "one line per epoch
    instead" of the bar (train.py), so that ``grep 'epoch 2/2' train.log`` shows that epoch's
    validation accuracy. rich wraps the line at its 80-column default for files, so a run
    name of ~45 characters (``digits-mlp-xavier-vs-he-lr-sweep-2024-05-01``) in a sweep
    where some models stopped ("2/4 training") splits every epoch line in two: the line with
    the epoch number has no val_acc or count, the next line has them without the epoch."""
    name, _, lines = log_run
    for epoch in (1, 2):
        hits = [line for line in lines if f"epoch {epoch}/2" in line]
        assert len(hits) == 1, lines
        whole = (
            rf"{re.escape(name)} epoch {epoch}/2: val_acc \d\.\d{{3}}, 2/4 training \(\d+\.\d s\)"
        )
        assert re.fullmatch(whole, hits[0].strip()), lines


def test_the_run_directory_line_names_the_whole_path(log_run):
    """``run directory: PATH`` is what a user (or ``tail -1 train.log`` in a script) reads to
    find the run; the path must come out whole on that line. In a log file rich folds it at
    80 columns, so the line holds a path cut in the middle (a folder that does not exist)
    and the rest lands on the next lines."""
    _, out, lines = log_run
    assert f"run directory: {out}" in lines, lines[-4:]


def _spy_progress(monkeypatch):
    import trainlab.train as train_mod

    bars = []
    orig = train_mod._progress

    def spy(enabled):
        bar = orig(enabled)
        bars.append(bar)
        return bar

    monkeypatch.setattr(train_mod, "_progress", spy)
    return bars


def test_the_bar_of_a_run_whose_models_all_stopped_is_not_left_with_time_remaining(
    monkeypatch, capsys
):
    """When every model has stopped (NaN/Inf here; early stopping the same) the run is over:
    training ends and the summary follows. The progress bar (with its ETA) must then say so,
    as finished: it is left at 21/210 steps with "ETA 0:00:02" for the 189 steps that will
    never run, the last thing a terminal shows of the training and the bar line a log keeps."""
    from trainlab.train import train

    bars = _spy_progress(monkeypatch)
    cfg = small_config(
        model={"hidden": [8]},
        train={"epochs": 10},
        population={"seeds": [0, 1], "grid": {"optim.lr": [1e30]}},
    )
    result = train(cfg, write=False, device="cpu")
    capsys.readouterr()
    assert result.summary["steps"] < 10 * 21  # every model stopped in epoch 1
    task = bars[-1].tasks[0]
    assert task.finished, (task.completed, task.total, task.time_remaining)


class _EmbedNet(nn.Module):
    """digits' 64 pixel values (0..16) as tokens: an Embedding, which no init scheme covers."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(17, 2)
        self.fc = nn.Linear(64 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(x.flatten(1).clamp(0, 16).long()).flatten(1))


def test_the_init_warning_of_train_points_at_the_callers_line():
    """Warnings are attributed to the caller's line (DESIGN: "warnings use stacklevel=2";
    the population's own warnings find the first frame outside trainlab), so that a notebook
    user sees which of their calls warned, and a ``warnings.filterwarnings(module=...)`` of
    their own module applies. ``train(config, model=...)`` with an Embedding warns once (as it
    should) but from ``trainlab/train.py`` (``trainer = Trainer(...)`` inside ``train``): the
    fixed ``stacklevel=4`` is right only for ``Trainer(...)`` called directly."""
    from trainlab.train import train

    cfg = small_config(train={"epochs": 1, "batch_size": 512}, population={"seeds": [0, 1, 2]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(cfg, model=_EmbedNet(), write=False, progress=False, device="cpu")
    init = [w for w in caught if str(w.message).startswith("init:")]
    assert len(init) == 1, [str(w.message) for w in caught]
    assert Path(init[0].filename).resolve() == Path(__file__).resolve(), (
        init[0].filename,
        init[0].lineno,
    )
