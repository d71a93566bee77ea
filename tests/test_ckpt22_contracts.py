"""Review ckpt22: killing and resuming runs (issue 3 item 6)."""

from __future__ import annotations

import json

import pytest
import torch

import trainlab.train as T
from trainlab.config import parse_config


def _interrupt_at_epoch(monkeypatch, epoch: int) -> None:
    """Make the trainer die (as a kill would) when it starts epoch ``epoch`` (1-based): the
    previous epoch's metrics, diagnostics and checkpoint are on disk, nothing after."""
    orig = T.Trainer.train_epoch
    calls = {"n": 0}

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt
        return orig(self, *args, **kwargs)

    monkeypatch.setattr(T.Trainer, "train_epoch", dying)


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# trainlab.diagnostics.watch promises (module docstring, "Deferred reductions") that "a run
# resumed at an epoch ... records bitwise what the uninterrupted run records". It does not when a
# sampled step's layer outputs exceed DEFER_BYTES (1 MiB; here K=2 x 200 samples x 400 units,
# 640 KB per layer output, with train.diagnose_every <= 8 so that deferring is on): the first
# sampled step of every watch (so the first one after each resume) copies outputs into
# the deferral buffers until the limit is hit, and Watch._stop_deferring then measures those
# *contiguous copies*, while every later step is measured on the live outputs, which a stacked
# population produces as transposed (non-contiguous) views; _measure sums the two layouts in a
# different order, so act_mean/act_std of that step differ in the last bits from the
# uninterrupted run's (which measured the same step on the live outputs). Weights are equal
# (checked), so the diagnostics of the same step must be equal too.
def test_resumed_diagnostics_equal_uninterrupted_for_large_outputs(tmp_path, monkeypatch):
    cfg = {
        "data": {"name": "digits", "test_fraction": 0.6},
        "model": {"name": "mlp", "hidden": [400]},
        "optim": {"name": "sgd", "momentum": 0.9},
        "train": {"epochs": 2, "batch_size": 200, "diagnose_every": 2},
        "population": {"seeds": [0, 1]},
    }
    T.train(parse_config(cfg), out=tmp_path / "a", progress=False)
    with monkeypatch.context() as m:
        _interrupt_at_epoch(m, 2)
        with pytest.raises(KeyboardInterrupt):
            T.train(parse_config(cfg), out=tmp_path / "b", progress=False)
    T.resume(tmp_path / "b", progress=False)
    runs = (tmp_path / "a", tmp_path / "b")
    a, b = (torch.load(d / "checkpoints/last.pt", weights_only=True) for d in runs)
    assert all(v.equal(b["population"][n]) for n, v in a["population"].items())  # bitwise
    ra, rb = (_rows(d / "diagnostics.jsonl") for d in runs)
    assert len(ra) == len(rb)
    differ = sorted(
        {(x["step"], x["layer"], k) for x, y in zip(ra, rb, strict=True) for k in x if x[k] != y[k]}
    )
    assert differ == []
