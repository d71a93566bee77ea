"""Review memory32: memory and internal structures of watch() over long runs."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn

from trainlab.diagnostics import watch


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)]
    return nn.Sequential(*layers)


def _fused_cpu_ok() -> bool:
    try:
        m = nn.Linear(2, 2)
        torch.optim.Adam(m.parameters(), fused=True)
        torch.amp.GradScaler("cpu")
    except Exception:
        return False
    return True


# FINDING: Watch._optimizer_stepped (src/trainlab/diagnostics/watch.py) appends a clone of the
# GradScaler's found_inf to self._found_infs at EVERY optimizer step of a fused optimizer, but
# the list is only emptied when the next *sampled* step starts (_pre_forward) and only read
# while a sampled step's update is pending (_finish_update). So between samples it grows by one
# 0-d device tensor (plus a clone kernel) per unsampled step: with every=1000 it holds ~1000
# dead tensors, contradicting the module docstring ("memory stays flat"; an unsampled step
# costs "two Python calls ... and nothing else"). Only the found_inf of the optimizer step(s)
# that finish the pending sampled step is ever needed, so at most one entry (one per optimizer
# in the step) should be held once that step's update was measured.
@pytest.mark.skipif(not _fused_cpu_ok(), reason="needs fused CPU Adam and a CPU GradScaler")
def test_found_infs_bounded_between_sampled_steps() -> None:
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-3, fused=True)
    scaler = torch.amp.GradScaler("cpu")
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 16, generator=g)
    y = torch.randint(0, 4, (8,), generator=g)
    with watch(model, every=1000, scaler=scaler) as w:
        for _ in range(200):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        held = len(w._found_infs)
        recs = w.records()
    assert held <= 1, f"{held} found_inf copies held after 200 steps with every=1000"
    assert {r["step"] for r in recs} == {0}
    assert all(r["update_ratio"] is not None for r in recs if r["kind"] == "Linear")


# GUARD (passes today; the area asks for bounded internal structures): a user loop with
# watch(every=1) that calls pop_records() per log interval keeps no samples, deferred steps,
# cache entries or deferred buffers beyond fixed bounds, also with a batch size changing every
# step (many output shapes) and a deepcopy of the model every few steps (copied hooks).
def test_watch_structures_bounded_with_pop_records() -> None:
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), 1e-2)
    g = torch.Generator().manual_seed(2)
    lens: list[dict[str, int]] = []
    with watch(model, every=1) as w:
        for s in range(400):
            b = 1 + (s * 37) % 50
            x = torch.randn(b, 16, generator=g)
            y = torch.randint(0, 4, (b,), generator=g)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if s % 5 == 0:
                keep = copy.deepcopy(model)  # e.g. a best-model snapshot
                del keep
            if (s + 1) % 100 == 0:
                assert len(w.pop_records()) == 100 * 5
                lens.append(
                    {
                        "samples": len(w._samples),
                        "deferred": len(w._deferred),
                        "cache": len(w._cache),
                        "bufs": len(w._defer_bufs),
                        "copied": len(w._copied_hooks),
                    }
                )
    for got in lens:
        assert got["samples"] == 0 and got["deferred"] == 0
        assert got["cache"] <= 64
        assert got["bufs"] <= 2 * 5  # at most two shapes per layer (module docstring)
        assert got["copied"] <= 2 * 5 * 16 + 64
    assert {k: v for k, v in lens[-1].items() if k != "copied"} == {
        k: v for k, v in lens[1].items() if k != "copied"
    }  # flat after warm-up (copied hooks are pruned in amortized batches)


# GUARD (passes today): the trainer pops the watch's records each epoch, so the watch's
# sample list holds at most one epoch of sampled steps and diagnostics.jsonl grows every epoch
# (appended and fsynced per epoch, not at the end).
def test_trainer_watch_popped_and_file_appended_per_epoch(tmp_path) -> None:
    import trainlab
    from trainlab.train import Trainer

    seen: list[tuple[int, int]] = []
    orig = Trainer.train_epoch

    def spy(self, *a, **k):
        rows = orig(self, *a, **k)
        path = tmp_path / "run" / "diagnostics.jsonl"
        seen.append((self.epoch, path.stat().st_size if path.exists() else 0))
        return rows

    cfg = {
        "name": "mem",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "sgd", "lr": 0.05},
        "train": {"epochs": 3, "batch_size": 256, "diagnose_every": 1},
        "population": {"seeds": [0, 1]},
    }
    mp = pytest.MonkeyPatch()
    mp.setattr(Trainer, "train_epoch", spy)
    try:
        trainlab.train(cfg, out=tmp_path / "run", progress=False)
    finally:
        mp.undo()
    sizes = [s for _, s in seen]
    assert sizes[0] == 0 and sizes[1] > 0 and sizes[2] > sizes[1]  # one epoch's lines each
    final = (tmp_path / "run" / "diagnostics.jsonl").stat().st_size
    assert abs((final - sizes[2]) - (sizes[2] - sizes[1])) < 0.2 * (sizes[2] - sizes[1])
