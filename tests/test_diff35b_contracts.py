"""Review diff35b: autocast-leaving commits (bb9dc29, 5f368ba) and resume's JSONL rewrite
(a0ed846)."""

from __future__ import annotations

import json
import math

import pytest
import torch

import trainlab.train as T
from trainlab.config import parse_config
from trainlab.report.jsonl import decode_record


def _interrupt_at_epoch(monkeypatch, epoch: int) -> None:
    """The trainer dies (as a kill would) when it starts epoch ``epoch`` (1-based)."""
    orig = T.Trainer.train_epoch
    calls = {"n": 0}

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt
        return orig(self, *args, **kwargs)

    monkeypatch.setattr(T.Trainer, "train_epoch", dying)


def _nonfinite(row: dict) -> dict:
    return {k: repr(v) for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)}


# a0ed846 made RunDir.rewrite_jsonl pass rows through runs.to_jsonable, which turns NaN/Inf
# into a bare null. resume (train.py _resume) rewrites diagnostics.jsonl with the rows it read
# back, undecoded. A diagnostics.jsonl written before the nonfinite_values encoding (bare
# NaN/Infinity tokens: report/jsonl.py decode_record still reads such lines "as they are",
# and resume accepts earlier versions' runs) lost every NaN/Inf on resume: the value became
# null with no "nonfinite_values" naming it, so decode_record gives None (missing) instead of
# NaN/Inf and the verdict no longer sees e.g. a NaN gradient norm. Before a0ed846 the rewrite
# kept the bare tokens. Expected: the kept rows decode after the resume to what they decoded
# to before it (fix: rewrite diagnostics rows through report.jsonl.encode_record, which is
# the identity on rows already encoded).
def test_resume_keeps_nonfinite_values_of_legacy_diagnostics_lines(tmp_path, monkeypatch):
    cfg = {
        "data": {"name": "digits", "test_fraction": 0.6},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "sgd"},
        "train": {"epochs": 2, "batch_size": 600, "diagnose_every": 1},
        "population": {"seeds": [0], "grid": {"optim.lr": [0.1, 1e30]}},  # one diverges
    }
    with monkeypatch.context() as m:
        _interrupt_at_epoch(m, 2)
        with pytest.raises(KeyboardInterrupt):
            T.train(parse_config(cfg), out=tmp_path / "r", progress=False)
    path = tmp_path / "r" / "diagnostics.jsonl"
    rows = [decode_record(json.loads(line)) for line in path.read_text().splitlines()]
    before = {(r["model"], r["layer"], r["step"]): _nonfinite(r) for r in rows}
    assert any(before.values())  # the diverging run has NaN/Inf diagnostics to keep
    # the file as a trainlab before the encoding wrote it: bare NaN/Infinity tokens
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    T.resume(tmp_path / "r", progress=False)
    after = {}
    for line in path.read_text().splitlines():
        r = decode_record(json.loads(line))
        if (r["model"], r["layer"], r["step"]) in before:
            after[(r["model"], r["layer"], r["step"])] = _nonfinite(r)
    assert after == before


# bb9dc29/5f368ba make trainlab's own computations leave a caller's torch.autocast region
# (training, LSUV, the SDAE fit), but the activations study's measurement
# (studies/activations.py measure, what run_study("activations") reports) still runs its
# batched float32 matmuls (torch.bmm) under the caller's autocast: in bfloat16 its per-layer
# activation stds change (0.2779 -> 0.2773 at the last layer here) although they depend only
# on the scheme, width and seeds. Expected: bitwise the numbers measured outside the region
# (the CPU computation is deterministic).
def test_activations_measure_inside_autocast_equals_outside():
    from trainlab.studies.activations import measure

    def run():
        return measure("tanh", "xavier_normal", {}, width=32, seeds=[0, 1], depth=5)

    outside = run()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = run()
    assert inside["std"] == outside["std"]
    assert inside["mean"] == outside["mean"]
