"""Review (conc30): run directories under concurrency and interruption."""

from __future__ import annotations

import json

import trainlab.runs as runs
from trainlab.train import resume, train

CFG = {
    "name": "stale",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [8]},
    "optim": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 3, "batch_size": 200},
    "population": {"seeds": [0]},
}


# `trainlab resume DIR` started while the original run is still training, which then finishes
# while resume builds its trainer. train.resume() (src/trainlab/train.py) loads the checkpoint in
# _restore() *before* it takes the run's writer lock (run.lock()), and never looks at the files
# again: once the original process ends and releases the lock, the resume goes on from its
# stale epoch-1 state, deletes the complete run's report.html (and would delete summary.json,
# figures), cuts metrics.jsonl back to epoch 1 and trains epochs 2-3 a second time, replacing
# the rows the original wrote. The checkpoint (and summary.json) must be read after the lock is
# taken (or re-checked then): the run is complete by the time resume may write, so this is the
# "nothing to train" case and the run's files must stay as the original process left them.
def test_resume_rereads_the_run_after_taking_the_lock(tmp_path, monkeypatch):
    saved: list[bytes] = []
    orig_save = runs.RunDir.save_checkpoint

    def save(self, state):
        orig_save(self, state)
        saved.append(self.checkpoint_path.read_bytes())

    monkeypatch.setattr(runs.RunDir, "save_checkpoint", save)
    run = tmp_path / "run"
    train(CFG, out=run, progress=False)
    monkeypatch.setattr(runs.RunDir, "save_checkpoint", orig_save)
    final = {n: (run / n).read_bytes() for n in ("metrics.jsonl", "summary.json")}
    final_ckpt = (run / "checkpoints" / "last.pt").read_bytes()
    (run / "report.html").write_text("report of the complete run")

    # what resume reads at its start: the original process is at epoch 1 of 3
    (run / "checkpoints" / "last.pt").write_bytes(saved[0])
    (run / "summary.json").unlink()
    text = final["metrics.jsonl"].decode()
    rows = [line for line in text.splitlines(True) if json.loads(line)["epoch"] <= 1]
    (run / "metrics.jsonl").write_text("".join(rows))

    orig_lock = runs.RunDir.lock
    calls: list[int] = []

    def lock(self):
        calls.append(1)
        if len(calls) == 1:  # the original process finishes, then releases its lock
            (run / "checkpoints" / "last.pt").write_bytes(final_ckpt)
            for name, data in final.items():
                (run / name).write_bytes(data)
        return orig_lock(self)

    monkeypatch.setattr(runs.RunDir, "lock", lock)
    resume(run, progress=False, on_note=lambda _: None)

    assert (run / "report.html").is_file(), "the complete run's report.html was deleted"
    assert (run / "metrics.jsonl").read_bytes() == final["metrics.jsonl"], (
        "the complete run's epochs 2-3 were trained again and their rows replaced"
    )
