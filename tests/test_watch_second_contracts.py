"""Adversarial review, second pass over ``watch()`` (hooks, depth, optimizer hook, devices)."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics.watch import watch


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_records_of_earlier_steps_survive_a_step_of_the_model_moved_to_meta():
    """``Watch.records()`` reads the summaries of every sampled step "to the host lazily, in one
    transfer" and the module doc says the watch follows ``model.to(...)`` between steps (the
    update-ratio copy is re-made, ``_finish_update`` converts across devices). A model moved to
    the ``meta`` device between steps (shape inference, ``torch.nn.utils.skip_init``-style
    re-materialisation, a dry run of the next phase's shapes) makes a step whose summaries are
    meta tensors with no data. ``records()`` then raises ``NotImplementedError: Cannot copy out
    of meta tensor`` for the whole watch, so the statistics of the real steps measured before
    the move, already recorded, are lost to the user. The records of step 0 (computed on the
    CPU, including its update ratio) must still be readable."""
    model = _mlp()
    x = torch.randn(5, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, every=1) as w:
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        model.to("meta")
        model(x.to("meta")).pow(2).mean().backward()
    recs = w.records()  # raises NotImplementedError on the current code
    step0 = [r for r in recs if r["step"] == 0 and r["layer"] == "0"]
    assert len(step0) == 1
    assert step0[0]["act_mean"] is not None and step0[0]["update_ratio"] is not None
