"""Review (concur33): the writer lock of a run folder between its claim and its training."""

from __future__ import annotations

import json

import pytest

import trainlab.train as T
from trainlab.errors import UserError

CFG = {
    "name": "claim",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [8]},
    "optim": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 1, "batch_size": 200},
    "population": {"seeds": [0]},
}


def _act_once_before_fit(monkeypatch, action):
    """Run ``action(run_path)`` once, right after train() has claimed and filled the run folder
    (config.yaml, population.json) and before the trainer's fit starts: what a second process
    arriving at that moment sees."""
    orig = T._noted_fit
    seen: list[object] = []
    busy: list[bool] = []

    def patched(trainer, run, *, progress):
        if not busy:  # (once: a resume inside ``action`` comes through here too)
            busy.append(True)
            seen.append(action(run.path))
        return orig(trainer, run, progress=progress)

    monkeypatch.setattr(T, "_noted_fit", patched)
    return seen


# RunDir.create (src/trainlab/runs.py) claims a new folder with checkpoints/ and an O_EXCL
# .lock file, but the flock on .lock is taken only later, in Trainer.fit (train.py), after
# _start_run has written config.yaml and population.json. In that window the folder looks like
# a resumable run killed before its first checkpoint, and nobody holds its lock: a
# `trainlab resume D` started then is NOT refused; it trains the run from scratch and takes the
# lock, and the original `trainlab train --out D` then fails with "D is being written by another
# trainlab process" about its own run (reproduced with two real processes: 1 race in 3); if the
# resume ends first, the original trains too and metrics.jsonl holds every row twice. The
# process that creates a run must hold its lock from the claim on (take the flock in create,
# keep it through fit): the resume must be refused as any resume of a run being written is
# (README: "a second `resume` of a run still being written is refused"), and the run must end
# with one row per (model, epoch).
def test_a_resume_while_train_is_starting_the_run_is_refused(tmp_path, monkeypatch):
    def try_resume(path):
        try:
            T.resume(path, progress=False, on_note=lambda _: None)
        except UserError as err:
            return str(err)
        return None

    seen = _act_once_before_fit(monkeypatch, try_resume)
    out = tmp_path / "D"
    T.train(CFG, out=out, progress=False)
    assert seen[0] is not None, "resume of a run still being started was not refused"
    assert "another trainlab process" in seen[0], seen[0]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1, f"metrics.jsonl holds {len(rows)} rows for 1 model x 1 epoch"


# The same window seen by a second `trainlab train --out D`: it is refused, but with
# "D already exists; pass a new --out, or `trainlab resume D` to continue it", advice to resume
# a run another process is starting right now (the very hint tests/test_concurrency_contracts.py
# ::test_a_second_train_into_a_folder_being_trained_is_not_told_to_resume_it removed for a run
# already training). With the lock held from the claim, RunDir.writer() sees it and the line
# says another trainlab process is writing D.
def test_a_second_train_while_the_first_is_starting_is_not_told_to_resume(tmp_path, monkeypatch):
    def try_train(path):
        with pytest.raises(UserError) as info:
            T.train(CFG, out=path, progress=False)
        return str(info.value)

    seen = _act_once_before_fit(monkeypatch, try_train)
    T.train(CFG, out=tmp_path / "D", progress=False)
    assert "trainlab resume" not in seen[0], seen[0]
    assert "another trainlab process" in seen[0], seen[0]
