"""Review: two trainlab processes at once, and writers interrupted by Ctrl-C.

Real ``trainlab`` subprocesses (the .venv's python, ``-m trainlab``) where a second process or a
signal is the point; the CLI in-process (``conftest.run_cli``) where the other side only has to
be *there*. Configs are the smallest digits MLPs, so each run takes a few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import TINY_PRETRAIN, assert_user_error, config_file, raise_ctrl_c, run_cli

NAME = "concur"
#: long enough that the run is still training when the test acts on it (it is killed after)
LONG = (
    f"name: {NAME}\nmodel: {{name: mlp, hidden: [8]}}\noptim: {{name: adam, lr: 0.01}}\n"
    "train: {epochs: 400, batch_size: 64}\npopulation: {seeds: [0]}\n"
)


def _default_sigint() -> None:
    """In the child: Ctrl-C's default action. A suite started in the background by a shell
    (``make test &``) runs with SIGINT ignored, which children inherit, and Python then installs
    no KeyboardInterrupt handler: the run would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _trainlab(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "trainlab", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,  # (one signal call: safe between fork and exec)
    )


def _wait_training(proc: subprocess.Popen, run: Path, timeout: float = 90.0) -> None:
    """Until ``run/metrics.jsonl`` has a row (the process is past set-up, training, holding
    the run's lock)."""
    metrics, deadline = run / "metrics.jsonl", time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if metrics.is_file() and metrics.stat().st_size > 0:
            return
        time.sleep(0.02)
    err = proc.stderr.read() if proc.poll() is not None else ""
    raise AssertionError(f"the run never started training (rc {proc.poll()}): {err[-1500:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def _signal_training(tmp_path: Path, sig: int) -> tuple[int, str]:
    """``trainlab train`` of :data:`LONG` in its default folder, sent ``sig`` once it trains:
    (exit status, stderr)."""
    (tmp_path / "c.yaml").write_text(LONG)
    proc = _trainlab("train", "c.yaml", "--device", "cpu", "--no-report", cwd=tmp_path)
    try:
        _wait_training(proc, tmp_path / "runs" / NAME)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    return proc.returncode, err


def test_ctrl_c_of_a_run_in_a_default_folder_says_which_folder_to_resume(tmp_path):
    """Ctrl-C during ``trainlab train CONFIG`` (no ``--out``) must end with one line that says
    how to continue, and that needs the run's folder: trainlab chose it (``runs/<name>``, or
    ``runs/<name>-2``, ``-3``, ... when earlier or parallel runs of the config took those) and
    has printed it nowhere yet (``run directory: ...`` comes only at the end of a run). Today the
    line is the fixed text ``... with `trainlab resume DIR``` (cli/app.py ``_INTERRUPTED``), so a
    user who started several runs of one config from a shell loop cannot tell which folder the
    interrupted one is; the line should name it (``trainlab resume runs/concur``)."""
    run = tmp_path / "runs" / NAME
    code, err = _signal_training(tmp_path, signal.SIGINT)
    assert code == 130, (code, err[-1500:])
    assert "Traceback" not in err, err[-1500:]
    assert len(err.strip().splitlines()) <= 2, err
    assert (run / "population.json").is_file()  # the folder is there, resumable
    assert f"runs/{NAME}" in err or str(run) in err, (
        f"the Ctrl-C line does not say which folder to resume ({run}): {err.strip()!r}"
    )


def test_a_second_train_into_a_folder_being_trained_is_not_told_to_resume_it(
    tmp_path, monkeypatch, capsys
):
    """Two ``trainlab train ... --out D`` at once (a job array with a duplicated task, a command
    pasted twice): the second must be refused with one clear line and leave the first alone.
    It is refused, but its line is ``run directory D already exists; pass a new --out, or
    `trainlab resume D` to continue it``: advice to continue a run that is not stopped, which
    another process is training right now and whose writer lock it holds (a ``trainlab resume
    D`` then fails with "being written by another trainlab process"). ``RunDir.create`` offers
    resume whenever ``config.yaml`` and ``population.json`` exist; it should first see whether
    the folder's ``.lock`` is held and then say the run is being written by another process."""
    (tmp_path / "c.yaml").write_text(LONG)
    run = tmp_path / "D"
    first = _trainlab(
        "train", "c.yaml", "--device", "cpu", "--no-report", "--out", str(run), cwd=tmp_path
    )  # fmt: skip
    try:
        _wait_training(first, run)
        before = sorted(p.name for p in run.iterdir())
        code, _, err = run_cli(
            monkeypatch, capsys, "train", tmp_path / "c.yaml", "--device", "cpu",
            "--no-report", "--set", "train.epochs=1", "--out", run,
        )  # fmt: skip
        still_training = first.poll() is None
    finally:
        _stop(first)
    assert still_training
    assert_user_error(code, err, str(run))
    assert sorted(p.name for p in run.iterdir()) == before  # the first run's folder untouched
    assert "trainlab resume" not in err, (
        f"the refusal tells the user to resume a run another process is training: {err!r}"
    )
    assert "another trainlab process" in err or "being written" in err, err


def test_a_pretrain_stopped_by_ctrl_c_can_be_run_again_with_the_same_out(
    tmp_path, monkeypatch, capsys
):
    """``trainlab pretrain CONFIG --out D`` interrupted with Ctrl-C (an RBM pass takes minutes at
    the sizes the examples use) leaves ``D`` holding ``.lock`` and ``config.yaml`` only. A
    pretrain run cannot be resumed (``trainlab resume D``: "not a `trainlab train` run"), and
    ``trainlab report D`` says "a pretrain run killed before its report has none: run it again";
    but running the same command again is refused ("run directory D already exists"), so no
    advice the CLI gives works until the user deletes the folder by hand. pretrain/run.py
    already removed a half-made run on a UserError "so that the same --out can be used again"
    (``_discarded_unless_done``); an interrupt (KeyboardInterrupt, what SIGINT raises in the fit
    loop) left it behind."""
    from trainlab.pretrain.population import RBMPopulation

    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "D"
    interrupted = raise_ctrl_c  # Ctrl-C while the RBMs train

    with monkeypatch.context() as m:
        m.setattr(RBMPopulation, "fit", interrupted)
        code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    line = " ".join(err.split())  # says what became of the folder, not to resume it
    assert "removed" in line and "trainlab resume" not in line, line

    code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", out)
    assert code == 0, (
        f"after Ctrl-C the same `trainlab pretrain --out {out.name}` is refused (exit {code}): "
        f"{err.strip()!r}; it left {sorted(p.name for p in out.iterdir())}"
    )
    assert (out / "summary.json").is_file()


def test_a_study_stopped_by_ctrl_c_says_its_folder_is_incomplete(tmp_path, monkeypatch, capsys):
    """Ctrl-C during ``trainlab study NAME`` must not tell the user to ``trainlab resume DIR``
    (a study does not resume, and the training run inside it that a resume would continue is
    only one cell): the line names the study's folder, says that it is incomplete and that the
    study runs again with another ``--out`` (the folder is kept: its finished cells are runs of
    their own)."""
    from trainlab.train import Trainer

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while a cell trains

    out = tmp_path / "my study"
    with monkeypatch.context() as m:
        m.setattr(Trainer, "fit", interrupted)
        code, _, err = run_cli(monkeypatch, capsys, "study", "init", "--quick", "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    line = " ".join(err.split())
    assert "trainlab resume" not in line, line
    assert "'" + str(out) + "'" in line and "incomplete" in line, line
    assert out.is_dir()


def test_sigterm_stops_a_run_like_ctrl_c_and_says_how_to_resume(tmp_path):
    """A batch system ends a job with SIGTERM (Slurm at its time limit, ``scancel``, a job
    array's cancel). The run must stop as after Ctrl-C: one line that names the folder to
    resume (the job's log is all the user sees), exit status 143 (128 + SIGTERM), and the run's
    folder left resumable."""
    run = tmp_path / "runs" / NAME
    code, err = _signal_training(tmp_path, signal.SIGTERM)
    assert code == 143, (code, err[-1500:])
    assert "Traceback" not in err, err[-1500:]
    line = " ".join(err.split())
    assert "SIGTERM" in line and f"trainlab resume runs/{NAME}" in line, line
    assert (run / "population.json").is_file() and (run / "config.yaml").is_file()
