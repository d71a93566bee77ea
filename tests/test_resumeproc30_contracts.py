"""Review (resumeproc30): `trainlab resume` interrupted while it rebuilds the run."""

from __future__ import annotations

from conftest import raise_ctrl_c, run_cli
from trainlab.runs import RunDir
from trainlab.train import train

CFG = {
    "name": "rp",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [8]},
    "optim": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 2, "batch_size": 200, "checkpoint_every": 1},
    "population": {"seeds": [0]},
}


# Wrong: train.resume() calls _restore(lock=True) (which reads config.yaml, the data and the
# checkpoint, and builds the trainer: seconds to minutes for a big dataset) outside any
# on_interrupt note, so a Ctrl-C or a batch system's SIGTERM there falls through to the CLI's
# default line "interrupted; nothing was written to continue from; run the command again".
# That is false for a resume: the run folder is untouched and still holds the checkpoint to
# continue from (a user reading it may delete the run), and the line does not name the command
# that continues the run, which README promises for Ctrl-C/SIGTERM of a run ("one line naming
# the command that continues it (`trainlab resume runs/<name>-2`)"). Right: the line names
# `trainlab resume DIR` (the lock is released: the same command works at once). Fix: wrap the
# _restore call (and the pre-fit part of resume()) in on_interrupt(f"continue the run with
# `{resume_command(run_dir)}`").
def test_ctrl_c_while_resume_rebuilds_the_run_names_trainlab_resume(tmp_path, monkeypatch, capsys):
    import trainlab.train

    run = tmp_path / "run"
    train(CFG, out=run, progress=False)
    (run / "summary.json").unlink()  # (a run killed after its last checkpoint)
    with monkeypatch.context() as m:
        m.setattr(trainlab.train, "_resume_device", raise_ctrl_c)  # inside _rebuild
        code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--no-report")
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert RunDir(run).writer() is None  # (the lock was released)
    assert "nothing was written to continue from" not in line, line
    assert f"trainlab resume {run}" in line, line
